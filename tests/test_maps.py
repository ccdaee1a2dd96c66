"""Representation maps (scratchnet.inspect.maps): the sample, the projection and its alignment, the silhouettes,
when classes separate, the frames a run records, and their round trip through the run store."""

import math
import sqlite3

import numpy as np
import pytest

from scratchnet import runs
from scratchnet.config import TrainConfig
from scratchnet.data import Dataset, to_inputs
from scratchnet.inspect.maps import (
    SEPARATED,
    MapFrame,
    MapRecorder,
    MapSample,
    RunMaps,
    aligned,
    balanced_sample,
    layer_outputs,
    principal_plane,
    silhouettes,
)
from scratchnet.nn.activations import get_activation
from scratchnet.nn.network import forward, init_params, softmax
from scratchnet.runs import RunStore, train_and_record

from .conftest import make_images
from .test_runs import recorded_run

# ---- the sample -------------------------------------------------------------------------------------


@pytest.mark.parametrize("classes", [1, 2, 3, 10, 47])
def test_the_sample_takes_each_class_equally_often(classes):
    labels = np.random.default_rng(1).integers(0, classes, 9000)
    chosen = balanced_sample(labels, 2000)
    counts = np.bincount(labels[chosen], minlength=classes)
    assert len(chosen) == len(set(chosen)) == 2000 and list(chosen) == sorted(chosen)
    assert counts.max() - counts.min() <= 1


def test_a_rare_class_gives_all_it_has_and_the_others_fill_the_sample():
    labels = np.array([0] * 5000 + [1] * 30 + [2] * 5000)
    counts = np.bincount(labels[balanced_sample(labels, 2000)])
    assert counts[1] == 30 and abs(counts[0] - counts[2]) <= 1 and counts.sum() == 2000


def test_with_more_classes_than_images_wanted_each_image_is_of_another_class():
    labels = np.repeat(np.arange(3000), 3)
    chosen = balanced_sample(labels, 2000)
    assert len(set(labels[chosen])) == 2000


def test_the_sample_is_the_same_every_time_and_all_of_a_small_test_set():
    labels = np.random.default_rng(2).integers(0, 10, 5000)
    assert np.array_equal(balanced_sample(labels), balanced_sample(labels))
    assert np.array_equal(balanced_sample(labels[:300]), np.arange(300))


# ---- projection and alignment -------------------------------------------------------------------------


def test_the_principal_plane_is_the_pca_of_the_rows():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 6)) * [5, 3, 1, 0.5, 0.2, 0.1] @ np.linalg.qr(rng.standard_normal((6, 6)))[0]
    plane = principal_plane(x)
    centred = x - x.mean(axis=0)
    u, singular, _ = np.linalg.svd(centred, full_matrices=False)
    expected = u[:, :2] * singular[:2]
    assert np.allclose(np.abs(plane), np.abs(expected), atol=1e-6)  # each axis up to its sign


def test_a_layer_wider_than_an_exact_eigendecomposition_is_worth_finds_the_same_plane():
    rng = np.random.default_rng(9)
    spread = np.concatenate([[10, 7], np.geomspace(5, 0.01, 782)])  # decaying, as pixels' spreads do
    x = (rng.standard_normal((1000, 784)) * spread) @ np.linalg.qr(rng.standard_normal((784, 784)))[0]
    centred = x - x.mean(axis=0)
    u, singular, _ = np.linalg.svd(centred, full_matrices=False)
    expected = u[:, :2] * singular[:2]
    radius = np.sqrt((expected**2).sum(axis=1).mean())
    assert np.allclose(np.abs(principal_plane(x)), np.abs(expected), atol=0.01 * radius)  # a hundredth of the cloud: unseen


def test_a_layer_wider_than_the_sample_projects_as_a_narrow_one():
    x = np.random.default_rng(4).standard_normal((40, 100)) * np.linspace(3, 0.1, 100)
    wide = principal_plane(x)
    narrow = principal_plane(np.vstack([x, np.tile(x.mean(axis=0), (80, 1))]))[:40]  # extra rows at the mean: same axes
    assert np.allclose(np.abs(wide), np.abs(narrow), atol=1e-6)


def test_a_layer_of_one_unit_maps_onto_a_line():
    plane = principal_plane(np.arange(5.0)[:, None])
    assert plane.shape == (5, 2) and np.all(plane[:, 1] == 0) and np.allclose(np.abs(plane[:, 0]), [2, 1, 0, 1, 2])


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_turned_copy_of_a_map_aligns_back_onto_it(mirrored):
    points = np.random.default_rng(5).standard_normal((200, 2))
    angle = 2.1
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    if mirrored:
        turn = turn @ np.diag([1.0, -1.0])
    assert np.allclose(aligned(points @ turn, points), points)


def test_alignment_only_turns_the_view_keeping_every_distance():
    rng = np.random.default_rng(6)
    points, previous = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    turned = aligned(points, previous)
    distances = np.linalg.norm(points[:, None] - points[None], axis=2)
    assert np.allclose(np.linalg.norm(turned[:, None] - turned[None], axis=2), distances)
    assert np.linalg.norm(turned - previous) <= np.linalg.norm(points - previous) + 1e-9


# ---- silhouettes ---------------------------------------------------------------------------------------


def brute_force_silhouettes(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rousseeuw's definition, one point at a time."""
    n = len(x)
    distance = [[float(np.sqrt(((x[i] - x[j]) ** 2).sum())) for j in range(n)] for i in range(n)]
    result = []
    for i in range(n):
        own = [distance[i][j] for j in range(n) if labels[j] == labels[i] and j != i]
        if not own:
            result.append(0.0)
            continue
        a = sum(own) / len(own)
        b = min(np.mean([distance[i][j] for j in range(n) if labels[j] == c]) for c in set(labels) if c != labels[i])
        result.append((b - a) / max(a, b) if max(a, b) > 0 else 0.0)
    return np.array(result)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_silhouettes_match_the_definition_point_by_point(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, 23)
    labels[0], labels[1] = 4, 3  # class 4 has a single point: its silhouette is 0
    x = rng.standard_normal((23, 5)) + labels[:, None]
    assert np.allclose(silhouettes(x, labels, chunk=7), brute_force_silhouettes(x, labels), atol=1e-5)


def test_far_apart_classes_score_near_one_and_mixed_ones_near_zero():
    rng = np.random.default_rng(7)
    labels = np.repeat([0, 1, 2], 100)
    apart = rng.standard_normal((300, 3)) * 0.01 + np.eye(3)[labels] * 10
    mixed = rng.standard_normal((300, 3))
    assert silhouettes(apart, labels).mean() > 0.99 and abs(silhouettes(mixed, labels).mean()) < 0.05
    assert np.all(silhouettes(np.zeros((6, 2)), np.array([0, 0, 0, 1, 1, 1])) == 0)  # all points in one place


# ---- frames and separation ---------------------------------------------------------------------------


def fake_maps(class_scores: list[list[float]]) -> RunMaps:
    """Maps of one layer and two classes whose frames have these class scores, one frame per epoch."""
    sample = MapSample(np.arange(2), np.array([0, 1]), ["a", "b"], ["pixels"])
    frames = [
        MapFrame(float(epoch), np.zeros((1, 2, 2)), np.zeros(1), np.array([scores]), np.zeros(2, int))
        for epoch, scores in enumerate(class_scores)
    ]
    return RunMaps(sample, frames)


def test_a_class_separates_at_the_first_frame_from_which_it_stays_above_the_line():
    low, high = SEPARATED - 0.1, SEPARATED + 0.1
    maps = fake_maps([[low, high], [high, high], [low, high], [high, high], [high, low]])
    assert maps.separation_epochs().tolist()[0][0] == 3  # above at 1, but below again at 2
    assert math.isnan(maps.separation_epochs()[0][1])  # below at the last frame: not separated (yet)
    assert fake_maps([[high, high]]).separation_epochs().tolist() == [[0, 0]]


@pytest.fixture(scope="module")
def tiny_images():
    """A dataset of 10×7 images (not 28×28), 5 classes, made to be learnt."""
    rng = np.random.default_rng(8)
    train, train_labels = make_images(900, 5, (10, 7), rng)
    test, test_labels = make_images(400, 5, (10, 7), rng)
    return Dataset("tiny", train, train_labels, test, test_labels, [f"class {k}" for k in range(5)])


@pytest.mark.parametrize("hidden", [[12], [16, 12, 10, 8, 6]])
def test_a_run_records_a_frame_per_layer_from_the_same_forward_that_trains(tiny_images, hidden):
    store, seen = RunStore(), []
    config = TrainConfig(hidden=hidden, epochs=3, batch_size=50, optimizer="adam", lr=0.01, validation_size=100)
    outcome = train_and_record(config, tiny_images, store, print, on_map_frame=lambda sample, frame: seen.append((sample, frame)))
    maps = store.maps(outcome.run_id)
    sample = maps.sample
    assert sample.layer_names == ["pixels", *(f"hidden {k}" for k in range(1, len(hidden) + 1)), "output"]
    assert len(sample) == 400 and sample.class_names == tiny_images.class_names and sample.fingerprint == tiny_images.test_fingerprint
    assert [frame.epoch for frame in maps.frames] == pytest.approx([0, 1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2, 7 / 3, 8 / 3, 3], abs=0.03)
    assert maps.unreadable == 0 and len(seen) == len(maps.frames)
    last = maps.frames[-1]
    assert last.points.shape == (len(hidden) + 2, 400, 2) and np.allclose(
        last.points, seen[-1][1].points, rtol=2e-3, atol=1e-3 * np.abs(last.points).max()
    )
    logits, _ = forward(outcome.model.params, to_inputs(tiny_images.test_images[sample.indices]), get_activation("relu"))
    assert np.array_equal(last.predictions, logits.argmax(axis=1))  # the recorded predictions are the network's
    assert np.array_equal(maps.frames[0].points[0], last.points[0])  # the pixels' map never moves
    assert last.scores[-1] > maps.frames[0].scores[-1]  # the output keeps the classes apart as it learns


def test_frames_follow_one_another_smoothly_once_learning_slows(tiny_images):
    frames = []
    config = TrainConfig(hidden=[16], epochs=6, batch_size=50, optimizer="adam", lr=0.003, validation_size=100)
    train_and_record(config, tiny_images, None, print, on_map_frame=lambda sample, frame: frames.append(frame))
    before, after = frames[-2].points[1], frames[-1].points[1]
    radius = np.sqrt((after**2).sum(axis=1).mean())
    assert np.median(np.linalg.norm(after - before, axis=1)) < 0.1 * radius


def test_how_many_frames_a_run_makes():
    sample = MapSample(np.arange(4), np.array([0, 1, 0, 1]), ["a", "b"], ["pixels", "output"])

    def recorder(epochs):
        return MapRecorder(sample, np.zeros((4, 3)), get_activation("relu"), epochs, lambda *_: None)

    assert recorder(1).frames_per_epoch == 4 and recorder(3).frames_per_epoch == 3 and recorder(8).frames_per_epoch == 1
    assert recorder(200).epoch_stride == 1 and recorder(2000).epoch_stride == 10


def test_a_diverged_network_makes_no_frame(tiny_images):
    recorder = MapRecorder.of_run(tiny_images, 1, get_activation("relu"), 3, "float32", lambda *_: None)
    params = init_params([70, 8, 5], "he", np.random.default_rng(0))
    assert recorder.frame(params, 0) is not None
    params[0]["W"][:] = np.inf
    assert recorder.frame(params, 1) is None


def test_layer_outputs_are_the_forward_passs_own():
    params = init_params([6, 4, 3, 2], "he", np.random.default_rng(0))
    x = np.random.default_rng(1).random((5, 6))
    outputs = layer_outputs(params, x, get_activation("tanh"))
    logits, cache = forward(params, x, get_activation("tanh"))
    assert [a.shape for a in outputs] == [(5, 6), (5, 4), (5, 3), (5, 2)]
    assert np.array_equal(outputs[1], cache.activations[0]) and np.allclose(outputs[-1], softmax(logits))


# ---- the run store ------------------------------------------------------------------------------------


def test_a_run_recorded_before_maps_has_none_and_a_deleted_one_is_not_there():
    store = RunStore()
    old = recorded_run(store)
    assert store.maps(old) is None
    store.delete([old])
    with pytest.raises(runs.RunStoreError):
        store.maps(old)


def test_a_store_of_the_first_version_gains_the_maps_tables_keeping_its_runs(monkeypatch):
    with monkeypatch.context() as first_version:
        first_version.setattr(runs, "MIGRATIONS", {1: runs.MIGRATIONS[1]})
        store = RunStore()
        run_id = recorded_run(store)
        store.close()
    upgraded = RunStore()
    assert upgraded.run(run_id).epochs == 3 and upgraded.maps(run_id) is None
    assert sqlite3.connect(upgraded.path).execute("PRAGMA user_version").fetchone()[0] == max(runs.MIGRATIONS)


def test_purging_a_run_removes_its_maps(tiny_images):
    store = RunStore()
    outcome = train_and_record(TrainConfig(hidden=[8], epochs=1, validation_size=100), tiny_images, store, print)
    store.delete([outcome.run_id])
    store.purge()
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT count(*) FROM maps").fetchone()[0] == 0 == db.execute("SELECT count(*) FROM map_frames").fetchone()[0]


def test_a_frame_of_the_default_network_stays_under_a_megabyte(tiny_images):
    sample = MapSample(np.arange(2000), np.arange(2000) % 10, [str(k) for k in range(10)], ["pixels", "hidden 1", "hidden 2", "output"])
    frame = MapFrame(1.0, np.random.default_rng(0).standard_normal((4, 2000, 2)) * 1e4, np.zeros(4), np.zeros((4, 10)), np.zeros(2000, int))
    store = RunStore()
    run_id = recorded_run(store)
    store.add_map_frame(run_id, 0, sample, frame)
    (size,) = (
        sqlite3.connect(store.path)
        .execute("SELECT length(points) + length(scales) + length(scores) + length(predictions) FROM map_frames")
        .fetchone()
    )
    assert size < 40_000
    read = store.maps(run_id).frames[0]
    assert np.allclose(read.points, frame.points, rtol=1e-3, atol=1e-3 * 4e4)  # float16 of each layer scaled to its largest
