"""How a run uses the cores: the BLAS thread count, forced or the faster of 1 and all, and whether batches are
made ahead on a second thread; chosen again at every epoch.

Nothing here is timed: a fake BLAS holds the thread count and a fake clock makes every batch take the
seconds a table gives for that way, so that a test says which way is faster."""

import json
from itertools import cycle

import pytest
from threadpoolctl import threadpool_info

from scratchnet.cli import main
from scratchnet.config import TrainConfig
from scratchnet.threads import RECHECK_SPACING, ThreadChooser, ThreadUse
from scratchnet.trainer import Trainer, TrainingData

MLP = [784, 128, 128, 10]  # big enough for OpenBLAS to split its matrix products between threads
QUIET = {1: [2.0], 2: [1.0]}  # seconds per batch: two threads are faster
BUSY = {1: [2.0], 2: [6.0]}  # another program holds a core: two threads wait for each other


class FakeBlas:
    def __init__(self, threads: int):
        self.threads = threads
        self.changes: list[int] = []

    def get(self) -> int:
        return self.threads

    def set(self, count: int) -> None:
        self.threads = count
        self.changes.append(count)


class FakeClock:
    """Read at the start and at the end of each timed batch; a batch takes the next of the durations that
    ``load`` gives for the chooser's way of the moment (cycled). ``load`` maps thread counts (ways without batches
    made ahead) or ``ThreadUse`` to seconds."""

    def __init__(self, load: dict[int | ThreadUse, list[float]]):
        self.chooser: ThreadChooser | None = None
        self.now, self.readings = 0.0, 0
        self.load = load

    @property
    def load(self) -> dict[ThreadUse, list[float]]:
        return self._load

    @load.setter
    def load(self, load: dict[int | ThreadUse, list[float]]) -> None:
        self._load = {way if isinstance(way, ThreadUse) else ThreadUse(way): durations for way, durations in load.items()}
        self._durations = {way: cycle(durations) for way, durations in self._load.items()}

    def __call__(self) -> float:
        self.readings += 1
        if self.readings % 2 == 0:  # the end of a batch
            self.now += next(self._durations[self.chooser.use])
        return self.now


def chooser_on(
    load: dict[int | ThreadUse, list[float]],
    forced: int | None = None,
    sizes=MLP,
    batch_size=128,
    trial_seconds=0.0,
    cores=2,
    limit=None,
    ahead=False,
) -> ThreadChooser:
    clock = FakeClock(load)
    chooser = ThreadChooser(
        sizes, batch_size, forced, limit, ahead, cores, trial_batches=3, trial_seconds=trial_seconds, blas=FakeBlas(cores), clock=clock
    )
    clock.chooser = chooser
    return chooser


def train_epoch(chooser: ThreadChooser, batches: int = 200) -> list[int]:
    """The BLAS thread count of each batch of one epoch."""
    return [use.blas_threads for use in ways_of_epoch(chooser, batches)]


def ways_of_epoch(chooser: ThreadChooser, batches: int = 200) -> list[ThreadUse]:
    """The way of each batch of one epoch (checking that BLAS has the way's count)."""
    chooser.start_epoch()
    ways = []
    for _ in range(batches):
        chooser.before_batch()
        assert chooser.blas.get() == chooser.use.blas_threads
        ways.append(chooser.use)
        chooser.after_batch()
    return ways


def test_a_forced_count_is_used_for_every_batch_and_the_original_restored():
    chooser = chooser_on(QUIET, forced=1)
    chooser.start()
    assert train_epoch(chooser) == [1] * 200 and chooser.use == ThreadUse(1)
    chooser.restore()
    assert chooser.blas.changes == [1, 2]


def test_the_faster_count_is_kept_after_trying_each():
    chooser = chooser_on(QUIET)
    chooser.start()
    assert train_epoch(chooser) == [1, 1, 1, 2, 2, 2] + [2] * 194
    assert chooser.use == ThreadUse(2)
    chooser = chooser_on({1: [2.0], 2: [3.0]})
    chooser.start()
    assert train_epoch(chooser) == [1, 1, 1, 2, 2, 2] + [1] * 194
    assert chooser.use == ThreadUse(1)


def test_a_way_twice_as_slow_as_the_best_timed_already_is_dropped_after_one_batch():
    chooser = chooser_on(BUSY)  # all threads: three times as slow
    chooser.start()
    assert train_epoch(chooser) == [1, 1, 1, 2] + [1] * 196


def test_each_epoch_checks_again_so_a_program_starting_mid_run_is_noticed():
    chooser = chooser_on(QUIET)
    chooser.start()
    assert train_epoch(chooser)[-1] == 2
    chooser.clock.load = BUSY
    assert train_epoch(chooser)[-1] == 1
    chooser.clock.load = QUIET
    assert train_epoch(chooser)[-1] == 2


def test_each_count_is_timed_for_trial_seconds_at_least_and_judged_by_its_mean():
    chooser = chooser_on(QUIET, trial_seconds=7.0)
    chooser.start()
    assert train_epoch(chooser) == [1] * 4 + [2] * 7 + [2] * 189  # 4 batches of 2 s, then 7 of 1 s
    chooser.clock.load = {1: [3.0], 2: [2.0, 2.0, 2.0, 7.0]}  # all threads: mostly quick, but one batch waits for a core
    assert train_epoch(chooser)[-1] == 1  # a mean of 3.25 s a batch against 3 s; the median (2 s) would have kept 2


def test_a_check_longer_than_an_epoch_goes_on_in_the_next():
    chooser = chooser_on(QUIET)
    chooser.start()
    assert train_epoch(chooser, batches=1) + train_epoch(chooser, batches=1) + train_epoch(chooser, batches=5) == [1, 1, 1, 2, 2, 2, 2]
    assert chooser.use == ThreadUse(2)


def test_full_batch_epochs_are_rechecked_rarely_so_trials_stay_a_small_part_of_the_run():
    chooser = chooser_on(BUSY)
    chooser.start()
    counts = [count for _ in range(200) for count in train_epoch(chooser, batches=1)]  # 200 one-batch epochs
    assert counts[:5] == [1, 1, 1, 2, 1]  # the first check, over four epochs, then the faster count
    assert counts.count(2) <= 200 // RECHECK_SPACING  # on the slow count only while checking again


def test_after_choosing_one_thread_the_next_check_waits_four_times_as_long():
    busy = chooser_on(BUSY)  # a check takes 4 batches (all threads are dropped after one), the next waits 160
    busy.start()
    assert train_epoch(busy, batches=100)[:4] == [1, 1, 1, 2]
    assert 2 not in train_epoch(busy, batches=100)  # 96 batches since the check
    assert train_epoch(busy, batches=100)[:4] == [1, 1, 1, 2]  # 196
    quiet = chooser_on(QUIET)  # two threads chosen after a check of 6 batches: the next waits 60
    quiet.start()
    assert train_epoch(quiet, batches=100)[-1] == 2
    assert train_epoch(quiet, batches=100)[:6] == [1, 1, 1, 2, 2, 2]


def test_products_too_small_for_openblas_to_split_run_on_one_thread_without_trying():
    chooser = chooser_on(QUIET, sizes=[144, 16, 4], batch_size=32)
    chooser.start()
    assert train_epoch(chooser) == [1] * 200 and chooser.blas.changes == [1]


def test_a_limit_caps_the_count_tried_and_a_limit_of_one_tries_nothing():
    four_cores = {1: [2.0], 3: [1.0], 4: [0.5]}
    chooser = chooser_on(four_cores, cores=4, limit=3)
    chooser.start()
    assert train_epoch(chooser)[-1] == 3 and chooser.candidates == (ThreadUse(1), ThreadUse(3))
    chooser = chooser_on(QUIET, limit=1)  # two cores, one kept for the app's UI
    chooser.start()
    assert train_epoch(chooser) == [1] * 200 and chooser.blas.changes == [1]


ONE_FREE_CORE = {ThreadUse(1): [2.0], ThreadUse(1, batches_ahead=True): [1.5], ThreadUse(2): [1.8]}


def test_counts_that_leave_a_core_idle_are_also_tried_with_batches_made_ahead():
    chooser = chooser_on(ONE_FREE_CORE, ahead=True)
    assert chooser.candidates == (ThreadUse(1), ThreadUse(1, True), ThreadUse(2))  # two threads leave no core idle
    chooser.start()
    ways = ways_of_epoch(chooser)
    assert ways[:9] == [ThreadUse(1)] * 3 + [ThreadUse(1, True)] * 3 + [ThreadUse(2)] * 3
    assert set(ways[9:]) == {ThreadUse(1, True)}
    chooser.clock.load = {**ONE_FREE_CORE, ThreadUse(1, True): [2.2]}  # another program took the idle core
    assert set(ways_of_epoch(chooser)) == {ThreadUse(1, True)}  # one thread chosen: the next check waits longer
    assert ways_of_epoch(chooser)[-1] == ThreadUse(2)


def test_one_batch_an_epoch_or_no_core_to_spare_never_makes_batches_ahead():
    assert chooser_on(ONE_FREE_CORE, ahead=False).candidates == (ThreadUse(1), ThreadUse(2))
    assert chooser_on(ONE_FREE_CORE, ahead=True, cores=1).candidates == (ThreadUse(1),)
    assert chooser_on(ONE_FREE_CORE, ahead=True, forced=2).candidates == (ThreadUse(2),)


def test_the_trainer_asks_the_chooser_for_every_batch_and_reports_its_choice(fake_dataset):
    data = TrainingData.from_dataset(fake_dataset, validation_size=100)
    trainer = Trainer(TrainConfig(hidden=[32], batch_size=8, epochs=3), data)  # 63 batches an epoch: room for a check each
    clock = FakeClock({**BUSY, ThreadUse(1, True): [1.0]})  # making batches ahead is fastest
    trainer.threads = ThreadChooser(trainer.layer_sizes, 128, cores=2, trial_batches=1, trial_seconds=0.0, blas=FakeBlas(2), clock=clock)
    clock.chooser = trainer.threads
    batch_threads, ahead = [], []
    trainer.on_batch = lambda event: (batch_threads.append(event.blas_threads), ahead.append(trainer.batches.ahead))
    result = trainer.run()
    assert (
        result.batches_ahead and result.blas_threads == 1 and batch_threads[:4] == [1, 1, 2, 1]
    )  # each batch says the count it trained with
    assert ahead[:4] == [False, True, False, True] and all(ahead[3:63])  # the batches follow the chosen way
    # start on 1; try 2 and keep 1 in epochs 1 and 3 (after choosing one thread, checks wait longer); then BLAS's own 2
    assert trainer.threads.blas.changes == [1, 2, 1, 2, 1, 2]


def blas_threads_now() -> int:
    return max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")


def test_cli_threads_flag_forces_the_count_and_the_json_reports_it(fake_data_dir, capsys):
    before = blas_threads_now()
    args = ["train", "--data-dir", str(fake_data_dir), "--hidden", "16", "--epochs", "1", "--validation-size", "100"]
    assert main([*args, "--threads", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["blas_threads"] == 1
    assert blas_threads_now() == before  # the run gave BLAS back its own count


@pytest.mark.parametrize("value", ["0", "two"])
def test_cli_rejects_a_thread_count_that_is_not_a_whole_number_above_zero(fake_data_dir, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data-dir", str(fake_data_dir), "--threads", value])
    assert exit_info.value.code == 2
    assert "--threads" in capsys.readouterr().err
