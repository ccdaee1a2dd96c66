"""Screenshots of the Edits tab at a realistic moment, on real MNIST, drawn offscreen, light and dark.

    python docs/make_edits_screenshot.py [--data-dir DIR] [--size 1024x768] [--out docs]

It trains the ``default`` preset for two epochs in the window, opens a test image of a 7 as the current input,
switches off the four units of hidden layer 1 that drive that 7 most (as the Unit tab would), prunes 90 % of the
weights with the slider, and grabs the window: ``screenshot-edits.png`` (light) and ``screenshot-edits-dark.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS)]

import numpy as np  # noqa: E402
from make_screenshots import open_window, settle, wait_for  # noqa: E402

from scratchnet.data import ENV_VAR  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.inspect.edits import SwitchOff, UnitRef  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.theme import DARK, LIGHT, Theme  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get(ENV_VAR) or str(DOCS.parents[1] / "shared" / "data" / "mnist"))
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # a run store of its own, never the user's
    app = create_application(sys.argv[:1])
    window = open_window(args.data_dir, tuple(int(side) for side in args.size.split("x")))
    window.settings_panel.set_config(load_preset("default")[0].replace(epochs=2))
    window.start_action.trigger()
    wait_for(window.session.run_finished)
    session = window.session
    seven = int(np.flatnonzero(session.dataset.test_labels == 7)[0])
    session.open_test_image(seven)
    activations = session.model.hidden_activations(session.input.pixels.reshape(1, -1))[0][0]
    for unit in np.argsort(-activations)[:4]:
        session.edit_network(SwitchOff(UnitRef(0, int(unit))))
    window.show_tab("Edits")
    window.editing.prune.setValue(90)
    wait_for(session.edit_effect_changed)
    theme = app.findChild(Theme)
    for scheme, name in ((LIGHT, "screenshot-edits.png"), (DARK, "screenshot-edits-dark.png")):
        theme.apply(scheme)
        settle()
        path = args.out / name
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        print(f"wrote {path}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
