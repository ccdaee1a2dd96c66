"""What the explanation views compute, widget-free and tested, from the same ``scratchnet.nn`` that trains."""
