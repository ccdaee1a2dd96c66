"""What the explanation views compute, widget-free and tested: the numbers behind a prediction.

- ``layers``: every layer's values for a whole set of inputs, from the same ``forward`` that trains;
- ``edits``: a hidden unit's address (``UnitRef``) and the edits a learner makes on a copy of the weights;
- ``arithmetic``: one example's forward and backward pass as numbers, each labelled with its line of
  ``nn/network.py``, and one gradient step on a copy;
- ``units``: one hidden unit explained, and the ranking of a layer's units by the accuracy lost without each;
- ``maps``: representation maps, every layer's view of a fixed sample of test images, aligned over a run.

Every number here comes from ``scratchnet.nn``; nothing re-implements the forward or backward pass.
"""
