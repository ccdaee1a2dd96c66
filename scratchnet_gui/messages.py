"""How the app words what it tells the user."""

import math


def sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and one full stop at the end (the core's messages are
    lower-case clauses, so that they can be put into a sentence or shown as one)."""
    text = text.rstrip(". ")
    return text[:1].upper() + text[1:] + "."


def epochs_text(epochs: float) -> str:
    """How much training weights have had: "1 epoch", "3 epochs", "0.81 epochs" (a run stopped mid-epoch)."""
    if not math.isfinite(epochs):
        return "an unknown number of epochs"
    if float(epochs).is_integer():
        return f"{epochs:.0f} epoch" + ("" if epochs == 1 else "s")
    return f"{epochs:.2g} epochs" if epochs < 1 else f"{epochs:.1f} epochs"
