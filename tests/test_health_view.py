"""The Health tab over a session: the current run's signals plotted per layer, the overlaid runs' too, the hints
as cards whose buttons apply the fix through the session, and one change at a time run as recorded runs."""

import pytest

from scratchnet.compare_steps import CHANGES
from scratchnet.config import TrainConfig
from scratchnet_gui.health_view import HealthView, HintCard

SATURATING = TrainConfig(
    hidden=[16, 16], activation="tanh", init="randn", optimizer="sgd", lr=0.1, epochs=3, batch_size=64, validation_size=100
)


@pytest.fixture
def view(qtbot, session):
    view = HealthView()
    qtbot.addWidget(view)
    view.follow(session)
    view.resize(900, 650)
    view.show()
    return view


def run(qtbot, session, config: TrainConfig):
    with qtbot.waitSignal(session.run_finished, timeout=30_000) as finished:
        assert session.start(config)
    return finished.args[0]


def cards(view) -> list[HintCard]:
    return [view.cards.itemAt(i).widget() for i in range(view.cards.count())]


def drawn(view, key: str) -> list:
    return [item for item in view._items[key] if item.xData is not None and len(item.xData)]


def test_the_runs_signals_are_plotted_per_layer_and_its_hints_shown_as_cards(qtbot, view, session):
    outcome = run(qtbot, session, SATURATING)
    qtbot.waitUntil(lambda: len(drawn(view, "grad_norm")) == 3, timeout=5000)  # two hidden layers and the output
    assert len(drawn(view, "inactive")) == 2 and len(drawn(view, "mean")) == 2 and len(drawn(view, "gap")) == 1
    assert [card.hint.key for card in cards(view)] == [hint.key for hint in outcome.hints] and "saturated" in {h.key for h in outcome.hints}
    assert "Loss at initialisation" in view.summary.text() and "hidden 2" in view.legend.text() and "output" in view.legend.text()


def test_a_cards_fix_fills_the_settings_and_fix_and_start_again_trains_them_afresh(qtbot, view, session):
    run(qtbot, session, SATURATING)
    card = next(card for card in cards(view) if card.hint.key == "saturated")
    with qtbot.waitSignal(session.settings_proposed) as proposed:
        card.apply_button.click()
    assert proposed.args[0] == SATURATING.replace(init="xavier") and session.state == "finished"
    with qtbot.waitSignal(session.run_started, timeout=5000):
        card.again_button.click()
    assert session.health.config.init == "xavier" and session.model.epochs_trained == 0  # fresh weights
    qtbot.waitUntil(lambda: not session.state.active, timeout=30_000)


def test_fix_and_start_again_during_a_run_stops_it_first(qtbot, view, session):
    long = SATURATING.replace(epochs=200)
    session.start(long)
    qtbot.waitUntil(lambda: any(card.hint.key == "saturated" for card in cards(view)), timeout=20_000)
    card = next(card for card in cards(view) if card.hint.key == "saturated")
    with qtbot.waitSignal(session.run_started, timeout=20_000):
        card.again_button.click()
    assert session.health.config == long.replace(init="xavier")
    session.stop()
    qtbot.waitUntil(lambda: not session.state.active, timeout=30_000)


def test_an_overlaid_runs_signals_are_drawn_beside_the_current_ones(qtbot, view, session):
    first = run(qtbot, session, SATURATING)
    session.runs.set_overlaid([first.run_id])
    qtbot.waitUntil(lambda: len(drawn(view, "grad_norm")) == 6, timeout=5000)  # this run's three layers and the overlay's
    assert f"#{first.run_id}" in view.legend.text()


def test_one_change_at_a_time_trains_every_step_each_overlaid_on_the_ones_before(qtbot, view, session):
    view.budget.setValue(1)
    with qtbot.waitSignal(session.comparison.finished, timeout=120_000) as finished:
        view.compare_button.click()
        assert view.compare_button.text() == "Cancel"
    results = finished.args[0]
    assert len(results) == len(CHANGES) + 1 == view.table.rowCount()
    assert session.runs.overlaid == [result.run_id for result in results]
    assert results[-1].step.config.replace(validation_size=5000) == TrainConfig(epochs=1)
    assert all(view.table.item(row, 1).text().endswith("%") for row in range(view.table.rowCount()))
    assert view.compare_button.text() == "Compare" and view.compare_button.isEnabled()


def test_cancelling_the_comparison_stops_its_run_and_trains_no_more(qtbot, view, session):
    view.budget.setValue(50)
    view.compare_button.click()
    qtbot.waitUntil(lambda: session.state.active, timeout=5000)
    with qtbot.waitSignal(session.comparison.cancelled, timeout=5000):
        view.compare_button.click()
    qtbot.waitUntil(lambda: not session.state.active, timeout=30_000)
    assert not session.comparison.running and session.comparison.results == []


def test_whats_this_tells_each_signals_value_now(qtbot, view, session):
    assert "Train to see" in view.plots.whatsThis()
    run(qtbot, session, SATURATING)
    qtbot.waitUntil(lambda: "Saturated outputs" in view.plots.whatsThis(), timeout=5000)

    def tells_the_latest() -> bool:  # the view redraws at most every REDRAW_MS: the latest sample's value, soon
        return f"layer 1: {session.health.history.samples[-1].saturated[0]:.0%}" in view.plots.whatsThis()

    qtbot.waitUntil(tells_the_latest, timeout=5000)
    assert "about −3 is healthy" in view.plots.whatsThis() and cards(view)[0].whatsThis()


def test_many_overlaid_runs_and_a_deep_network_never_widen_the_tab(qtbot, view, session):
    deep = SATURATING.replace(hidden=[4] * 12, epochs=1)
    ids = [run(qtbot, session, deep).run_id for _ in range(8)]
    session.runs.set_overlaid(ids)
    qtbot.waitUntil(lambda: "and 3 more" in view.legend.text(), timeout=5000)
    assert view.minimumSizeHint().width() < 700
