"""The settings panel driven through its real widgets (pytest-qt, offscreen): it shows every setting the core
accepts, reads it back unchanged, and names what it cannot show."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel, QPushButton

from scratchnet.config import TrainConfig
from scratchnet.model import save_model
from scratchnet.settings import SETTINGS, Kind
from scratchnet_gui.settings_panel import SettingsPanel

from .quick_models import quick_model


@pytest.fixture
def panel(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    return panel


NUMBERS = {name: setting for name, setting in SETTINGS.items() if setting.kind in (Kind.WHOLE, Kind.REAL)}

# Every finite end the core's range includes, as (setting, value): the values a control must reach exactly.
CLOSED_ENDS = [
    (name, end)
    for name, setting in NUMBERS.items()
    for end, is_open in ((setting.range.low, setting.range.low_open), (setting.range.high, setting.range.high_open))
    if not is_open and math.isfinite(end)
]


@pytest.mark.parametrize(("name", "value"), CLOSED_ENDS)
def test_every_setting_at_an_end_of_the_cores_range_round_trips_through_the_panel(panel, name, value):
    config = TrainConfig(epochs=2).replace(**{name: value})
    assert panel.set_config(config) == []
    assert TrainConfig.from_dict(panel.values()) == config


def test_changing_the_optimizer_kind_brings_that_kinds_usual_learning_rate(panel):
    """Between SGD and Adam the learning rate differs a hundredfold; within a kind the typed rate stays."""
    optimizer, lr = panel.field("optimizer"), panel.field("lr")
    assert panel.config().optimizer == "nesterov" and lr.value() == pytest.approx(0.25)  # the default preset
    optimizer.setCurrentText("momentum")
    assert lr.value() == pytest.approx(0.25)
    optimizer.setCurrentText("adam")
    assert panel.config().lr == pytest.approx(0.001)
    lr.setValue(0.003)
    optimizer.setCurrentText("adamw")
    assert panel.config().lr == pytest.approx(0.003)
    optimizer.setCurrentText("sgd")
    assert panel.config().lr == pytest.approx(0.1)
    panel.select_preset("default")  # a preset brings its own rate, whatever the optimiser before
    assert panel.config().lr == pytest.approx(0.25)


@pytest.mark.parametrize("seed", [2**31, 3_000_000_000, 2**32 - 1, 2**63 - 1])
def test_seeds_past_32_bits_show_in_the_panel_and_read_back_as_the_same_number(panel, seed):
    assert panel.set_config(TrainConfig(seed=seed)) == []
    assert panel.field("seed").text() == str(seed)
    assert panel.config().seed == seed


def test_the_seed_box_steps_with_the_arrow_keys_and_refuses_what_the_core_refuses(panel, qtbot):
    seed = panel.field("seed")
    panel.set_config(TrainConfig(seed=2**63 - 2))
    qtbot.keyClick(seed, Qt.Key.Key_Up)
    assert seed.value() == 2**63 - 1
    qtbot.keyClick(seed, Qt.Key.Key_Up)  # the top of the core's range: no further
    assert seed.value() == 2**63 - 1
    seed.stepBy(-3)
    assert panel.config().seed == 2**63 - 4
    for text, kept in (("abc", 2**63 - 4), ("-5", 5), (str(2**63), int(str(2**63)[:-1])), ("42", 42)):
        seed.lineEdit().selectAll()
        qtbot.keyClicks(seed.lineEdit(), text)
        qtbot.keyClick(seed.lineEdit(), Qt.Key.Key_Return)
        assert seed.value() == kept, text


def values_the_core_accepts():
    """(setting, value) pairs inside the core's range for that one setting, the other settings at their defaults."""

    def inside(name):
        allowed = SETTINGS[name].range
        if SETTINGS[name].kind is Kind.WHOLE:
            return st.integers(int(allowed.low), min(allowed.high, 2**63 - 1))
        return st.floats(allowed.low, min(allowed.high, 1e9), exclude_min=allowed.low_open, exclude_max=allowed.high_open)

    return st.sampled_from(sorted(NUMBERS)).flatmap(lambda name: st.tuples(st.just(name), inside(name)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(setting=values_the_core_accepts())
def test_any_setting_the_core_accepts_is_shown_or_named_never_an_exception(panel, setting):
    name, value = setting
    config = TrainConfig(epochs=2 + math.ceil(value) if name == "warmup_epochs" else 2).replace(**{name: value})
    unshown = panel.set_config(config)
    on_screen = panel.values()[name]
    same = on_screen == value if SETTINGS[name].kind is Kind.WHOLE else math.isclose(on_screen, value, rel_tol=1e-3, abs_tol=1e-9)
    assert unshown == ([] if same else [name])


def test_a_model_with_a_seed_and_a_batch_size_past_32_bits_opens_and_the_notice_names_the_batch_size(qtbot, tmp_path, fake_dataset):
    from scratchnet_gui.main_window import MainWindow

    config = TrainConfig(hidden=[100, 16], seed=3_000_000_000, batch_size=2**31)
    path = tmp_path / "cli.safetensors"
    model = quick_model(fake_dataset, train_images=64, hidden=(100, 16), epochs=1)
    save_model(replace(model, config=config.to_dict()), path)
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.files.open_model_from(path)
    assert window.session.model is not None
    assert window.settings_panel.field("seed").value() == 3_000_000_000
    assert window.notice.level == "warning"
    assert "(Batch size 2,147,483,648)" in window.notice.text.text()


def control_of(panel, name):
    return panel.layers if name == "hidden" else panel.field(name)


def test_every_setting_shows_the_tables_label_and_help_text(panel):
    labels = {label.buddy(): label.text() for label in panel.findChildren(QLabel) if label.buddy() is not None}
    for name, setting in SETTINGS.items():
        control = control_of(panel, name)
        assert " ".join(setting.help.split()) in " ".join(control.toolTip().split()), name
        assert ("Applies live" in control.toolTip()) == setting.live, name
        assert panel.label_of(name) == setting.label
        if name != "hidden":  # the layers editor is a row of its own, without a label
            assert labels[control] == setting.label


def test_during_a_run_exactly_the_live_settings_stay_editable(panel):
    panel.set_running(True)
    assert {name for name in SETTINGS if control_of(panel, name).isEnabled()} == {name for name, s in SETTINGS.items() if s.live}
    panel.set_running(False)
    assert all(control_of(panel, name).isEnabled() for name in SETTINGS)


def test_the_augmentation_preview_shows_training_images_varied_as_the_settings_say(qtbot, session):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    preview = panel.augment_preview
    assert preview.examples() is None  # no data when it started following
    qtbot.mouseClick(next(b for b in panel.findChildren(QPushButton) if b.text() == "Preview…"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(preview.isVisible)
    preview.set_images(session.dataset.train_images)
    plain = preview.examples()
    assert np.array_equal(plain, preview.examples())  # the same examples until asked for new ones
    panel.field("augment_shift").setValue(0)
    as_they_are = preview.examples()
    panel.field("augment_rotate").setValue(30.0)
    turned = preview.examples()
    assert not np.array_equal(turned, as_they_are) and "As the network sees them" in preview.caption.text()
    qtbot.mouseClick(preview.new_button, Qt.MouseButton.LeftButton)
    assert not np.array_equal(preview.examples(), turned)
    panel.field("augment_rotate").setValue(0.0)
    assert "off" in preview.caption.text()
    shown = session.dataset.train_images.astype(np.float32) / 255
    assert any(np.allclose(example, image) for example in preview.examples() for image in shown)


def test_whats_this_on_a_control_says_the_setting_its_value_now_and_its_rule(panel):
    lr = panel.field("lr")
    lr.setValue(0.25)
    panel.field("optimizer").setCurrentText("nesterov")
    text = lr.whatsThis()
    assert "Learning rate" in text and "now <b>0.25" in text and "usual learning rate for nesterov is about 0.1" in text
    assert "from the next batch" in text  # a live setting
    panel.field("epochs").setValue(12)
    epochs = panel.field("epochs").whatsThis()
    assert "now <b>12" in epochs and "must be" in epochs and "from the next batch" not in epochs
    assert all(panel.field(name).whatsThis() for name in SETTINGS if name != "hidden")
