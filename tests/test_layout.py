"""The package layout holds: the math stands alone, the core never imports Qt."""

import ast
import sys

from .conftest import REPO


def imported_modules(path) -> set[str]:
    """The absolute names of the modules a source file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
    return names


def test_the_math_imports_nothing_of_scratchnet_but_errors():
    for path in sorted((REPO / "scratchnet" / "nn").glob("*.py")):
        ours = {name for name in imported_modules(path) if name.split(".")[0] == "scratchnet"}
        assert ours <= {"scratchnet.errors"} | {name for name in ours if name.startswith("scratchnet.nn")}, path.name
        outside = {name.split(".")[0] for name in imported_modules(path)} - {"scratchnet", "numpy", "__future__"}
        assert outside <= set(sys.stdlib_module_names), (path.name, outside)


def test_the_core_never_imports_qt_or_the_app():
    for path in sorted((REPO / "scratchnet").rglob("*.py")):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert not roots & {"PySide6", "pyqtgraph", "scratchnet_gui"}, path.name


def test_the_notebook_steps_import_from_one_place():
    import numpy as np

    from scratchnet.nn import backward, forward, get_activation, init_params, softmax_cross_entropy

    rng = np.random.default_rng(0)
    params = init_params([4, 3, 2], "he", rng)
    relu = get_activation("relu")
    logits, cache = forward(params, rng.random((5, 4)), relu)
    loss, dlogits = softmax_cross_entropy(logits, np.array([0, 1, 0, 1, 1]))
    grads, _ = backward(params, cache, dlogits, relu)
    assert loss > 0 and [g["W"].shape for g in grads] == [(4, 3), (3, 2)]


PANELS = {
    "curves_panel",
    "draw_pad",
    "image_browser",
    "confusion_view",
    "network_view",
    "arithmetic_view",
    "unit_view",
    "maps_view",
    "handwriting_panel",
    "runs_panel",
    "settings_panel",
    "robustness_view",
    "confidence_view",
    "health_view",
    "edit_panel",
}


def test_panels_never_import_each_other_and_only_the_session_emits_its_signals():
    for name in sorted(PANELS):
        path = REPO / "scratchnet_gui" / f"{name}.py"
        others = {module.rsplit(".", 1)[-1] for module in imported_modules(path) if module.startswith("scratchnet_gui.")} & PANELS
        assert others <= {name}, (name, others)
    for path in sorted((REPO / "scratchnet_gui").glob("*.py")):
        if path.name != "session.py":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            emits = [
                node.lineno
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr == "emit" and "session." in ast.unparse(node.value)
            ]
            assert not emits, (path.name, emits)


def test_the_window_connects_panels_to_the_session_never_to_each_other():
    import re

    source = (REPO / "scratchnet_gui" / "main_window.py").read_text(encoding="utf-8")
    panels = "curves|health|pad|browser|confusion|robustness|confidence|network|unit|arithmetic|maps|handwriting|runs|settings_panel"
    panels = "curves|pad|browser|confusion|network|handwriting|runs|settings_panel|editing"
    panel_to_panel = re.compile(rf"self\.({panels})\.[\w.]+\.connect\((lambda[^:]*:\s*)?self\.({panels})\b")
    assert not panel_to_panel.findall(source)
    assert "session.store" not in source  # the runs view owns what the window shows of the store
