"""Nothing a handwriting folder holds can crash ScratchNet or lose a drawing: two windows (and processes) on one
collection merge their changes, killed writers lose nothing acknowledged, a collection that cannot be read is
never written over, a folder named as a source is only read, and every hostile file is refused in one line."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from scratchnet.cli import main
from scratchnet.handwriting import COMMITTED, IMAGES, LABELS, LOCK, STROKES, Examples, HandwritingStore, read_examples, write_examples
from scratchnet.idx import write_idx
from scratchnet.model import save_model
from scratchnet.preprocess import Drawing
from scratchnet_gui.teaching import Handwriting
from tests.quick_models import quick_model


def digit(value: int) -> np.ndarray:
    return np.full((28, 28), value, np.uint8)


def a_drawing(x: float) -> Drawing:
    return Drawing([np.array([[x, 10.0], [x + 5, 200.0]])], [18.0], 280.0)


def collection(folder: Path, count: int) -> HandwritingStore:
    """A collection of ``count`` drawn examples: example i is a ``i % 10`` of grey level i."""
    store = HandwritingStore(folder)
    for i in range(count):
        store.add(digit(i), i % 10, a_drawing(i))
    return store


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` (links not followed): a file's bytes, a link's target, a folder's kind."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            entries[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            entries[name] = "folder"
        elif path.is_file():
            entries[name] = path.read_bytes()
        else:
            entries[name] = "special"
    return entries


# ---- item 2: two windows, two processes -------------------------------------------------------------------


def test_two_windows_opened_one_after_the_other_keep_both_their_examples(qtbot, tmp_path):
    folder = tmp_path / "handwriting"
    collection(folder, 3)
    window_a, window_b = Handwriting(folder), Handwriting(folder)
    window_b.add(digit(70), 7)
    window_a.add(digit(10), 1)  # A still shows the 3 examples it opened with
    assert sorted(HandwritingStore(folder).examples.labels.tolist()) == [0, 1, 1, 2, 7]
    assert sorted(window_a.examples.labels.tolist()) == [0, 1, 1, 2, 7]  # A now shows B's 7 too


def test_a_relabel_delete_or_undo_finds_its_examples_after_another_window_moved_them(qtbot, tmp_path):
    folder = tmp_path / "handwriting"
    collection(folder, 4)  # grey levels 0, 1, 2, 3
    window_a, window_b = Handwriting(folder), Handwriting(folder)
    window_b.delete([0])  # every example moves up by one on disk, not in A's view
    window_a.delete([3])  # A's position 3: grey level 3
    window_b.relabel([1], 9)  # B's position 1 (B saw 1, 2, 3): grey level 2
    on_disk = HandwritingStore(folder).examples
    assert on_disk.images[:, 0, 0].tolist() == [1, 2] and on_disk.labels.tolist() == [1, 9]
    window_b.undo_delete()
    window_a.undo_delete()
    on_disk = HandwritingStore(folder).examples
    assert on_disk.images[:, 0, 0].tolist() == [0, 1, 2, 3] and on_disk.labels.tolist() == [0, 1, 9, 3]


def test_a_window_shows_what_another_window_added_when_its_tab_is_shown(qtbot, data_home):
    from scratchnet_gui.handwriting_panel import HandwritingPanel
    from scratchnet_gui.session import Session

    session = Session()
    panel = HandwritingPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    panel.show()
    session.handwriting.add(digit(1), 1)
    Handwriting(data_home / "handwriting").add(digit(7), 7)  # another window
    panel.hide()
    panel.show()  # its tab chosen again
    assert panel.counts.text().startswith("2 examples") and sorted(session.handwriting.examples.labels.tolist()) == [1, 7]
    Handwriting(data_home / "handwriting").add(digit(8), 8)  # while the tab is on screen
    qtbot.waitUntil(lambda: panel.counts.text().startswith("3 examples"), timeout=10_000)
    session.shutdown()


def test_a_collection_made_readable_again_is_used_without_a_restart(qtbot, data_home):
    from scratchnet_gui.handwriting_panel import HandwritingPanel
    from scratchnet_gui.session import Session

    folder = data_home / "handwriting"
    collection(folder, 6)
    (folder / STROKES).write_bytes(b"[" * 100_000)
    session = Session()
    panel = HandwritingPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    panel.show()
    assert panel.problem.isVisible() and "move it away to keep the examples without their strokes" in panel.problem.text()
    (folder / STROKES).rename(tmp := folder.parent / "strokes-moved-away.json")
    session.handwriting.add(digit(9), 9)
    assert len(session.handwriting.examples) == 7 and not panel.problem.isVisible() and panel.counts.text().startswith("7 examples")
    assert tmp.exists()
    session.shutdown()


ADDER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from scratchnet_gui.teaching import Handwriting  # the app's collection, as a window holds it

    folder, grey, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    handwriting = Handwriting(folder)
    failures = []
    handwriting.failed.connect(failures.append)
    print("ready", flush=True)
    sys.stdin.readline()  # go: every adder starts at once
    for i in range(count):
        handwriting.add(np.full((28, 28), grey, np.uint8), i % 10)
        if failures:
            sys.exit(failures[0])
        print(i + 1, flush=True)  # acknowledged: on disk from here on
    """
)


def start_adder(folder: Path, grey: int, count: int) -> subprocess.Popen:
    adder = subprocess.Popen(
        [sys.executable, "-c", ADDER, str(folder), str(grey), str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert adder.stdout.readline() == "ready\n"
    return adder


def go(*adders: subprocess.Popen) -> None:
    for adder in adders:
        adder.stdin.write("go\n")
        adder.stdin.flush()


def greys(folder: Path) -> list[int]:
    return HandwritingStore(folder).examples.images[:, 0, 0].tolist()


def test_two_processes_adding_at_once_lose_nothing(tmp_path):
    folder = tmp_path / "handwriting"
    collection(folder, 2)
    first, second = start_adder(folder, 100, 25), start_adder(folder, 200, 25)
    go(first, second)
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    on_disk = greys(folder)
    assert on_disk.count(100) == 25 and on_disk.count(200) == 25 and on_disk[:2] == [0, 1]


@pytest.mark.parametrize("acknowledged_before_kill", [1, 4, 9])
def test_a_process_killed_mid_write_loses_nothing_it_or_another_acknowledged(tmp_path, acknowledged_before_kill):
    folder = tmp_path / "handwriting"
    collection(folder, 2)
    killed, survivor = start_adder(folder, 100, 1000), start_adder(folder, 200, 20)
    go(killed, survivor)
    for _ in range(acknowledged_before_kill):
        killed.stdout.readline()
    killed.kill()  # SIGKILL, most likely in the middle of a save
    killed.wait(timeout=60)
    assert survivor.wait(timeout=120) == 0
    on_disk = greys(folder)
    assert on_disk[:2] == [0, 1] and on_disk.count(200) == 20 and on_disk.count(100) >= acknowledged_before_kill
    HandwritingStore(folder).add(digit(3), 3)  # the next save clears what the killed one left
    assert sorted(path.name for path in folder.iterdir()) == sorted([IMAGES, LABELS, STROKES, LOCK])


# ---- item 3: a collection that cannot be read is never written over ------------------------------------------


def unlink(path: Path) -> None:
    path.unlink()


def dangle(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.parent / "gone")


def make_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def make_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def link_to_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("damage", [unlink, dangle, make_fifo, make_folder, link_to_zero])
@pytest.mark.parametrize("name", [IMAGES, LABELS, STROKES])
def test_a_damaged_file_leaves_the_collection_untouched_and_says_so(qtbot, tmp_path, damage, name):
    folder = tmp_path / "handwriting"
    collection(folder, 6)
    if damage is unlink and name == STROKES:
        pytest.skip("strokes.json is optional: without it the collection is the IDX pair")
    damage(folder / name)
    before = snapshot(folder)
    handwriting = Handwriting(folder)  # a FIFO or /dev/zero must neither hang nor fill the memory
    assert "cannot be read" in handwriting.problem and len(handwriting.examples) == 0
    with qtbot.waitSignal(handwriting.failed) as failed:
        handwriting.add(digit(9), 9)
    assert "was not changed" in failed.args[0]
    assert snapshot(folder) == before


def test_the_panel_says_why_a_collection_with_no_images_file_is_not_shown(qtbot, data_home):
    from scratchnet_gui.handwriting_panel import HandwritingPanel
    from scratchnet_gui.session import Session

    folder = data_home / "handwriting"
    collection(folder, 60)
    (folder / IMAGES).unlink()
    session = Session()
    panel = HandwritingPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    panel.show()
    assert panel.problem.isVisible() and f"lacks {IMAGES}" in panel.problem.text() and "left as it is" in panel.problem.text()
    session.handwriting.add(digit(1), 1)
    assert not (folder / IMAGES).exists() and len(json.loads((folder / STROKES).read_bytes())["drawings"]) == 60
    session.shutdown()


# ---- item 4: a folder named as a source is only read -------------------------------------------------------------


@pytest.fixture
def source_with_a_committed_save(tmp_path) -> Path:
    """A user's examples folder holding an IDX pair and a `.committed` folder with another one."""
    source = tmp_path / "my-digits"
    write_examples(Examples(np.stack([digit(i) for i in range(12)]), np.arange(12) % 4), source)
    write_idx(source / COMMITTED / IMAGES, np.stack([digit(50 + i) for i in range(12)]))
    write_idx(source / COMMITTED / LABELS, (np.arange(12) + 1).astype(np.uint8) % 4)
    return source


def test_reading_a_folder_with_a_committed_save_reads_it_as_committed_and_changes_nothing(source_with_a_committed_save):
    before = snapshot(source_with_a_committed_save)
    examples = read_examples(source_with_a_committed_save)
    assert examples.images[:, 0, 0].tolist() == list(range(50, 62))  # the committed images, the folder's strokes
    assert snapshot(source_with_a_committed_save) == before


def test_import_reads_the_source_folder_only(qtbot, tmp_path, source_with_a_committed_save):
    before = snapshot(source_with_a_committed_save)
    handwriting = Handwriting(tmp_path / "handwriting")
    assert handwriting.import_folder(source_with_a_committed_save) == 12
    assert snapshot(source_with_a_committed_save) == before


def test_finetune_reads_the_examples_folder_only(fake_dataset, fake_data_dir, tmp_path, capsys):
    source = tmp_path / "my-digits"
    write_examples(Examples(fake_dataset.train_images[:20], fake_dataset.train_labels[:20]), source)
    write_idx(source / COMMITTED / IMAGES, fake_dataset.train_images[20:40])
    write_idx(source / COMMITTED / LABELS, fake_dataset.train_labels[20:40].astype(np.uint8))
    save_model(quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=1), tmp_path / "reader.safetensors")
    before = snapshot(source)
    argv = ["finetune", str(tmp_path / "reader.safetensors"), "--examples", str(source), "--data-dir", str(fake_data_dir), "--epochs", "1"]
    assert main(argv) == 0
    assert snapshot(source) == before


def test_a_committed_link_is_never_followed_to_move_files(qtbot, tmp_path):
    """A `.committed` that links to another folder would move that folder's files into the collection."""
    folder, elsewhere = tmp_path / "handwriting", tmp_path / "elsewhere"
    collection(folder, 3)
    collection(elsewhere, 5)
    before, elsewhere_before = snapshot(folder), snapshot(elsewhere)
    (folder / COMMITTED).symlink_to(elsewhere)
    handwriting = Handwriting(folder)
    assert "not a folder ScratchNet wrote" in handwriting.problem
    handwriting.add(digit(1), 1)
    assert snapshot(elsewhere) == elsewhere_before and snapshot(folder) == {**before, COMMITTED: f"-> {elsewhere}"}


# ---- item 5: every hostile value the collection's files can hold -------------------------------------------------

A_DRAWING = {"strokes": [[[1.0, 2.0], [3.0, 4.0]]], "widths": [18.0], "size": 280.0}
HOSTILE_VALUES = [None, True, 0, -1, 1e308, 10**400, "text", "", [], [[]], {}, [None], [[1, 2, 3]], {"a": 1}]


def strokes_document(**changes) -> dict:
    """A valid strokes.json of two examples, the first drawn, with ``changes`` applied."""
    return {"format": "scratchnet-handwriting-strokes", "version": 2, "drawings": [dict(A_DRAWING), None], "ids": ["#0", "#1"], **changes}


def hostile_strokes_files() -> list[bytes]:
    """strokes.json files with a hostile value in each place, nested too deep, or not numbers."""
    documents = [strokes_document(drawings=value) for value in HOSTILE_VALUES]
    documents += [strokes_document(ids=value) for value in [*HOSTILE_VALUES, ["#0", "#0"], ["#0", "../x"], ["#0"]]]
    documents += [strokes_document(format=value) for value in HOSTILE_VALUES]
    for key in A_DRAWING:
        documents += [strokes_document(drawings=[{**A_DRAWING, key: value}, None]) for value in HOSTILE_VALUES]
        documents += [strokes_document(drawings=[{k: v for k, v in A_DRAWING.items() if k != key}, None])]
    documents += [strokes_document(drawings=[value, None]) for value in HOSTILE_VALUES if value is not None]
    documents += [strokes_document(drawings=[{**A_DRAWING, "strokes": [[value, [1, 2]]]}, None]) for value in HOSTILE_VALUES]
    documents += [strokes_document(drawings=[{**A_DRAWING, "strokes": [[[value, 1.0]]]}, None]) for value in HOSTILE_VALUES]
    files = [json.dumps(document).encode() for document in documents]
    files += [b"[" * 100_000 + b"]" * 100_000, b'{"drawings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"]
    files += [json.dumps(strokes_document()).replace("1.0", constant).encode() for constant in ("NaN", "Infinity", "-Infinity", "1e999")]
    files += [b"", b"\x00" * 100, b"\xff\xfe", b"null", b"[]", b"{}"]
    return files


def hostile_idx_files() -> list[tuple[str, bytes]]:
    """The collection's IDX files truncated anywhere, empty, or claiming impossible shapes."""
    images = (b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2) + bytes(2 * 28 * 28)
    files = [(IMAGES, images[:cut]) for cut in (0, 1, 4, 12, 15, 16, 100, len(images) - 1)] + [(IMAGES, images + b"x")]
    files += [(IMAGES, b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") + (0).to_bytes(4, "big") * 2)]  # 0×0 images
    files += [
        (IMAGES, b"\x00\x00\x08\x03" + (2**31).to_bytes(4, "big") * 3),
        (LABELS, b"\x00\x00\x08\x01" + (2**32 - 1).to_bytes(4, "big")),
    ]
    return files


def test_every_hostile_file_leaves_the_collection_unread_and_untouched(qtbot, tmp_path):
    cases = [(STROKES, content) for content in hostile_strokes_files()] + hostile_idx_files()
    for number, (name, content) in enumerate(cases):
        folder = tmp_path / f"case-{number}"
        collection(folder, 2)
        (folder / name).write_bytes(content)
        before = snapshot(folder)
        handwriting = Handwriting(folder)
        if handwriting.problem is None:  # harmless after all (an empty stroke, say): the collection is whole
            handwriting.add(digit(1), 1)
            assert len(HandwritingStore(folder).examples) == 3, (name, content[:200])
            continue
        assert "cannot be read" in handwriting.problem and len(handwriting.problem) < 1000 and len(handwriting.examples) == 0
        handwriting.add(digit(1), 1)
        handwriting.import_folder(folder)
        assert snapshot(folder) == before, (name, content[:200])


def test_a_valid_strokes_file_of_an_older_version_still_reads(tmp_path):
    """The sanity check of the fuzzing above: the unchanged document reads, as does one without ids (version 1)."""
    for document in (strokes_document(), {k: v for k, v in strokes_document(version=1).items() if k != "ids"}):
        folder = tmp_path / f"version-{document['version']}"
        write_examples(Examples(np.stack([digit(1), digit(2)]), [1, 2]), folder)
        (folder / STROKES).write_text(json.dumps(document))
        examples = read_examples(folder)
        assert examples.ids == ["#0", "#1"] and examples.drawings[1] is None
        np.testing.assert_array_equal(examples.drawings[0].strokes[0], [[1.0, 2.0], [3.0, 4.0]])


def make_file(path: Path) -> None:
    path.write_text("not a folder")


@pytest.mark.parametrize(
    "spoil, problem",
    [
        (make_file, "not a folder of examples"),
        (os.mkfifo, "not a folder of examples"),
        (lambda folder: (collection(folder, 2), (folder / COMMITTED).write_text("x")), "not a folder ScratchNet wrote"),
        (lambda folder: (collection(folder, 2), (folder / LOCK).unlink(), (folder / LOCK).mkdir()), "cannot be read"),
    ],
)
def test_a_collection_folder_that_is_not_one_is_left_as_it_is(qtbot, tmp_path, spoil, problem):
    folder = tmp_path / "handwriting"
    spoil(folder)
    handwriting = Handwriting(folder)
    assert problem in handwriting.problem
    with qtbot.waitSignal(handwriting.failed):
        handwriting.add(digit(1), 1)


@pytest.fixture
def model_file(fake_dataset, tmp_path) -> Path:
    path = tmp_path / "reader.safetensors"
    save_model(quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=1), path)
    return path


def test_the_finetune_command_refuses_every_hostile_examples_folder_in_one_line(model_file, fake_data_dir, tmp_path, capsys):
    cases = [(STROKES, content) for content in hostile_strokes_files()[::3]] + hostile_idx_files()
    for number, (name, content) in enumerate(cases):
        folder = tmp_path / f"case-{number}"
        write_examples(Examples(np.zeros((2, 12, 12), np.uint8), [1, 2]), folder)
        (folder / name).write_bytes(content)
        assert main(["finetune", str(model_file), "--examples", str(folder), "--data-dir", str(fake_data_dir)]) == 2, (name, content[:200])
        error = capsys.readouterr().err
        assert error.startswith("scratchnet: error: ") and error.count("\n") == 1 and "Traceback" not in error, error


@pytest.mark.parametrize("special", ["fifo", "zero", "loop"])
@pytest.mark.parametrize("name", [IMAGES, LABELS, STROKES])
def test_the_finetune_command_neither_hangs_nor_fills_memory_on_special_files(model_file, fake_data_dir, tmp_path, special, name):
    folder = tmp_path / "examples"
    write_examples(Examples(np.zeros((2, 12, 12), np.uint8), [1, 2]), folder)
    (folder / name).unlink()
    if special == "fifo":
        os.mkfifo(folder / name)
    elif special == "zero":
        (folder / name).symlink_to("/dev/zero")
    else:
        (folder / name).symlink_to(folder / name)
    command = [sys.executable, "-m", "scratchnet", "finetune", str(model_file), "--examples", str(folder), "--data-dir", str(fake_data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("scratchnet: error: ") and "Traceback" not in done.stderr, done.stderr


def test_export_deletes_nothing_in_the_folder_it_writes_to(qtbot, tmp_path):
    """Leftovers of our own pattern are cleared in the app's collection only, never in a folder the user chose."""
    destination = tmp_path / "exported"
    leftover = destination / ".saving.999999999.0123456789ab"  # no such process
    leftover.mkdir(parents=True)
    (leftover / "note.txt").write_text("the user's")
    handwriting = Handwriting(tmp_path / "handwriting")
    handwriting.add(digit(1), 1)
    assert handwriting.export_folder(destination)
    assert (leftover / "note.txt").read_text() == "the user's" and len(read_examples(destination)) == 1
