"""The Maps tab follows the session: a run's maps live, frame after frame; a recorded run's replayed from the Runs
tab; a run recorded before maps, or with damaged ones, says so; hovering and clicking reach the pad."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from scratchnet.config import TrainConfig
from scratchnet_gui.maps_view import CLASS_COLOURS, CLASS_SYMBOLS, MapsView, class_style
from scratchnet_gui.runs_panel import RunsPanel

from .test_runs import recorded_run
from .test_runs_hostile import tamper


@pytest.fixture
def view(qtbot, session):
    view = MapsView()
    qtbot.addWidget(view)
    view.follow(session)
    view.resize(900, 620)
    view.show()
    qtbot.waitExposed(view)
    return view


def run_to_the_end(session, qtbot, **settings) -> None:
    config = TrainConfig(
        **{"hidden": [16, 12], "epochs": 2, "batch_size": 50, "optimizer": "adam", "lr": 0.01, "validation_size": 100, **settings}
    )
    with qtbot.waitSignal(session.run_finished, timeout=60_000):
        assert session.start(config)


def test_the_view_follows_a_run_frame_after_frame_to_its_last(view, session, qtbot):
    assert view.placeholder.isVisible() and not view.slider.isEnabled()
    frames = []
    session.maps_changed.connect(lambda maps: frames.append(len(maps.frames)) if maps is not None else None)
    run_to_the_end(session, qtbot)
    maps = session.maps
    assert frames == list(range(1, len(maps.frames) + 1)) and len(maps.frames) == 9  # 4 a epoch in a run of 2 epochs, and the start
    assert maps.run_id is not None and maps.run_id == session.model_run_id
    qtbot.waitUntil(lambda: view.frame == len(maps.frames) - 1)
    assert view.slider.value() == view.slider.maximum() == 8 and not view.placeholder.isVisible()
    assert [plot.plotItem.titleLabel.text.split(" ·")[0] for plot in view._plots] == ["pixels", "hidden 1", "hidden 2", "output"]
    x, y = view._scatters[-1].getData()
    assert np.allclose(np.column_stack([x, y]), maps.frames[-1].points[-1])
    view.slider.setValue(0)
    x, _ = view._scatters[-1].getData()
    assert np.allclose(x, maps.frames[0].points[-1][:, 0]) and "epoch 0 · frame 1 of 9" in view.frame_label.text()
    curves = view.scores.listDataItems()
    assert len(curves) == 4 and np.allclose(curves[-1].getData()[1], maps.scores()[:, -1])
    assert view.separation.rowCount() == 4 and view.separation.columnCount() == 4  # the fake data's 4 classes


def test_play_runs_through_the_frames_and_stops_at_the_last(view, session, qtbot):
    run_to_the_end(session, qtbot, epochs=1)
    view.play_button.click()
    assert view.frame == 0 or view.play_button.isChecked()
    qtbot.waitUntil(lambda: not view.play_button.isChecked(), timeout=10_000)
    assert view.frame == len(session.maps.frames) - 1 and view.play_button.text() == "▶ Play"


def test_hovering_a_point_shows_its_image_and_rings_it_everywhere_and_a_click_opens_it(view, session, qtbot):
    run_to_the_end(session, qtbot, epochs=1)
    qtbot.waitUntil(lambda: view.frame == len(session.maps.frames) - 1)
    layer, index = 2, 17
    point = QPointF(*map(float, session.maps.frames[view.frame].points[layer][index]))
    scene = view._plots[layer].getViewBox().mapViewToScene(point)
    found = view.point_at(layer, scene)
    assert found is not None
    found_point = session.maps.frames[view.frame].points[layer][found]
    assert np.allclose(found_point, session.maps.frames[view.frame].points[layer][index], atol=1e-2 * np.abs(found_point).max())
    view._hover(layer, scene)
    test_index = int(session.maps.sample.indices[found])
    assert f"Test image #{test_index}" in view.hover_text.text() and view.hover_image.image() is not None
    assert all(len(ring.getData()[0]) == 1 for ring in view._rings)

    class Click:
        def scenePos(self):
            return scene

    with qtbot.waitSignal(session.input_changed) as opened:
        view._click(layer, Click())
    assert opened.args[0].origin == f"test image #{test_index}"


def test_a_recorded_run_replays_from_the_runs_tab(view, session, qtbot):
    run_to_the_end(session, qtbot)
    recorded = session.maps
    runs = RunsPanel()
    qtbot.addWidget(runs)
    runs.follow(session)
    session.new(TrainConfig())
    assert session.maps is None and view.placeholder.isVisible()
    runs.select_runs([recorded.run_id])
    with qtbot.waitSignal(session.maps_opened) as opened:
        runs.maps_button.click()
    assert opened.args == [recorded.run_id]
    replayed = session.maps
    assert replayed is not recorded and len(replayed.frames) == len(recorded.frames)
    assert np.allclose(
        replayed.frames[-1].points, recorded.frames[-1].points, rtol=1e-2, atol=1e-2 * np.abs(recorded.frames[-1].points).max()
    )
    assert view.maps is replayed and f"The maps of run {recorded.run_id}" in view.source_label.text()


def test_a_run_recorded_before_maps_says_it_has_none(view, session, qtbot):
    run_id = recorded_run(session.store)
    with qtbot.waitSignal(session.notice) as said:
        assert not session.show_run_maps(run_id)
    assert "has no representation maps" in said.args[0] and session.maps is None and view.placeholder.isVisible()


def test_damaged_maps_say_so_and_show_nothing(view, session, qtbot):
    run_to_the_end(session, qtbot, epochs=1)
    run_id = session.maps.run_id
    tamper(session.store, "UPDATE maps SET labels = ? WHERE run_id = ?", b"\xff\xff" * 10, run_id)
    session.new(TrainConfig())
    with qtbot.waitSignal(session.notice) as said:
        assert not session.show_run_maps(run_id)
    assert "cannot be read" in said.args[0] and view.maps is None
    tamper(session.store, "UPDATE map_frames SET points = ? WHERE run_id = ?", b"\x00", run_id)
    tamper(session.store, "UPDATE maps SET labels = ? WHERE run_id = ?", b"\x00\x00" * len(session.dataset.test_labels), run_id)
    with qtbot.waitSignal(session.notice) as said:
        assert not session.show_run_maps(run_id)
    assert "none of its frames can be read" in said.args[0]


def test_a_network_of_five_hidden_layers_gets_seven_maps_that_fit_or_scroll(view, session, qtbot):
    run_to_the_end(session, qtbot, hidden=[12, 10, 8, 8, 6], epochs=1)
    assert len(view._plots) == 7
    view.resize(900, 620)
    qtbot.waitUntil(lambda: all(plot.isVisible() for plot in view._plots))
    assert min(min(plot.width(), plot.height()) for plot in view._plots) >= 120
    view.resize(640, 420)  # too small for seven: the grid scrolls, the maps keep their size
    qtbot.waitUntil(lambda: view.scroll.verticalScrollBar().maximum() > 0)


def test_replaying_is_refused_while_a_run_trains(view, session, qtbot):
    run_to_the_end(session, qtbot, epochs=1)
    run_id = session.maps.run_id
    with qtbot.waitSignal(session.maps_changed, timeout=30_000):
        session.start(TrainConfig(hidden=[8], epochs=50, validation_size=100))
    with qtbot.waitSignal(session.notice) as said:
        assert not session.show_run_maps(run_id)
    assert "Wait for the run in progress" in said.args[0]
    with qtbot.waitSignal(session.run_finished, timeout=30_000):
        session.stop()


def test_every_class_of_ten_has_a_look_of_its_own():
    styles = [class_style(k) for k in range(10)]
    assert len(set(styles)) == 10 and len(CLASS_COLOURS) >= 8 and len(CLASS_SYMBOLS) >= 5
