"""What the explanation views compute, widget-free and tested: the numbers behind a prediction."""
