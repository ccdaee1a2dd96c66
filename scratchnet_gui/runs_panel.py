"""The "Runs" tab: every run of the run store in a sortable, filterable table, to overlay, compare, reopen,
repeat, delete (with undo) and export.

The table is a ``RunTableModel`` over one ``RunStore.runs()`` query; it sorts its list of summaries itself
(one Python sort by a key, not a comparison per pair through Qt) and a ``RunFilter`` proxy keeps the rows
whose text holds the filter's. A cell's text is made only when a row is shown, sorted or filtered by text,
so 10 000 runs open in the time of their query.

The runs, and which of them are overlaid on the Training plots, are the session's (``session.runs``, a
``RunsView``): the table shows what it holds, selecting runs overlays them, and the buttons are its commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scratchnet.config import TrainConfig
from scratchnet.errors import ConfigError
from scratchnet.runs import RunSummary

from .messages import sentence
from .run_curves import MAX_OVERLAYS
from .run_export import export_with_dialog, recipe_or_notice
from .runs_view import RunsView
from .session import Session
from .visuals import figure, overlay_color

SETTINGS_COLUMN, SETTINGS_MIN_WIDTH = 3, 180  # px: "128-128 relu nesterov lr 0.25…"

SEARCH_ROLE = Qt.ItemDataRole.UserRole  # a row's text for the filter: every cell of it, in lower case
ANSWERED_ROLES = {
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.ToolTipRole,
    SEARCH_ROLE,
}
ROOT = QModelIndex()  # the parent of every row of a table
FILTER_DELAY_MS = 150  # the table is filtered once typing pauses this long, not at every keystroke
MAX_COMPARISON_HEIGHT = 360  # pixels; a longer comparison scrolls
HEADLINES = {  # the figures compared below the settings that differ
    "status": lambda run: run.status.replace("_", " "),
    "epochs": lambda run: number_text(run.epochs, "d"),
    "test accuracy": lambda run: accuracy_text(run.test_accuracy),
    "val accuracy": lambda run: accuracy_text(run.val_accuracy),
    "seconds": lambda run: number_text(run.train_seconds, ".1f"),
    "BLAS threads": lambda run: str(run.blas_threads or "?"),
}


@dataclass(frozen=True)
class Column:
    """A column of the run table: its title, the value it sorts by (None, unknown, sorts below every other) and
    the text it shows."""

    title: str
    value: Callable[[RunSummary], object]
    text: Callable[[RunSummary], str]
    numeric: bool = True


class RunTableModel(QAbstractTableModel):
    """The runs of the store, one per row (``set_runs``), sortable by any column."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._runs: list[RunSummary] = []
        self._row_of: dict[int, int] = {}  # run id -> row
        self._labels: dict[str, str] = {}  # config JSON -> RunSummary.settings, made when first needed (runs share configs)
        self._search_texts: dict[int, str] = {}
        self._overlay_colors: dict[int, QColor] = {}  # run id -> the colour of its curves on the Training plots
        self._sorted_by: tuple[int, Qt.SortOrder] | None = None
        self.columns = [
            Column("id", lambda run: run.id, lambda run: str(run.id)),
            Column("started", lambda run: run.started, lambda run: time_text(run.started), False),
            Column("status", lambda run: run.status, lambda run: run.status.replace("_", " "), False),
            Column("settings", self.label, self.label, False),
            Column("epochs", lambda run: run.epochs, lambda run: number_text(run.epochs, "d")),
            Column("test acc", lambda run: run.test_accuracy, lambda run: accuracy_text(run.test_accuracy)),
            Column("val acc", lambda run: run.val_accuracy, lambda run: accuracy_text(run.val_accuracy)),
            Column("seconds", lambda run: run.train_seconds, lambda run: number_text(run.train_seconds, ".1f")),
            Column("samples/s", lambda run: run.samples_per_second, lambda run: number_text(run.samples_per_second, ",.0f")),
        ]

    def set_runs(self, runs: list[RunSummary]) -> None:
        """Show ``runs`` (sorted as the table was)."""
        self.beginResetModel()
        self._runs = runs
        if self._sorted_by is not None:
            self._sort_runs(*self._sorted_by)
        self._row_of = {run.id: row for row, run in enumerate(self._runs)}
        self.endResetModel()

    def set_overlaid(self, ids: list[int]) -> None:
        """Mark the runs overlaid on the Training plots, in their order there: each id cell shows its curves' colour."""
        self._overlay_colors = {run_id: overlay_color(position) for position, run_id in enumerate(ids)}
        if self._runs:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._runs) - 1, 0), [Qt.ItemDataRole.DecorationRole])

    def label(self, run: RunSummary) -> str:
        """The run's settings in a few words (``TrainConfig.describe``); for an edited copy of a run's weights,
        which run and how ("edit of run 3: pruned the 90 % smallest weights")."""
        if run.edits is not None:
            return run.edit_text
        if run.config_json not in self._labels:
            self._labels[run.config_json] = run.settings
        return self._labels[run.config_json]

    def run_at(self, row: int) -> RunSummary:
        return self._runs[row]

    def row_of(self, run_id: int) -> int | None:
        return self._row_of.get(run_id)

    def search_text(self, row: int) -> str:
        """Every cell of the row, in lower case (``SEARCH_ROLE``)."""
        run = self._runs[row]
        if run.id not in self._search_texts:
            self._search_texts[run.id] = " ".join(column.text(run) for column in self.columns).casefold()
        return self._search_texts[run.id]

    def rowCount(self, parent: QModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: QModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role not in ANSWERED_ROLES:  # Qt asks each cell for a dozen roles as it paints: most go no further
            return None
        run, column = self._runs[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(run)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._overlay_colors.get(run.id) if index.column() == 0 else None
        if role == SEARCH_ROLE:
            return self.search_text(index.row())
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and run.message:
            return sentence(run.message)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows by the column's values (numbers as numbers, times as times), keeping the selection."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        ids = [self._runs[index.row()].id for index in before]
        self._sorted_by = (column, order)
        self._sort_runs(column, order)
        self._row_of = {run.id: row for row, run in enumerate(self._runs)}
        after = [self.index(self._row_of[run_id], index.column()) for run_id, index in zip(ids, before)]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _sort_runs(self, column: int, order: Qt.SortOrder) -> None:
        key = self.columns[column].value
        self._runs.sort(key=lambda run: (key(run) is not None, key(run), run.id), reverse=order == Qt.SortOrder.DescendingOrder)


class RunFilter(QSortFilterProxyModel):
    """Keeps the runs whose cells hold the filter text (case-insensitive: one look per row, at its
    ``SEARCH_ROLE``); sorting is the source model's."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFilterRole(SEARCH_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)


class RunsPanel(QWidget):
    """The Runs tab over the session's runs view (``session.runs``): the table shows its runs, selecting runs
    overlays them, and the buttons send it (or the session) commands."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.view: RunsView | None = None
        self.table_model = RunTableModel(self)
        self.proxy = RunFilter(self)
        self.proxy.setSourceModel(self.table_model)
        self._compared: list[int] = []  # the ids the comparison table shows
        self._sent: list[int] = []  # the ids last asked to be overlaid (the selection, in the table's order)
        self._showing = False  # the table follows the view: its selection changes are not the user's
        self._build()

    def follow(self, session: Session) -> None:
        """Show ``session``'s recorded runs; selecting runs overlays them."""
        self.session, self.view = session, session.runs
        self.view.runs_changed.connect(self._show_runs)
        self.view.overlays_changed.connect(lambda _: self._show_overlaid())
        self.view.message.connect(self._say)
        self._show_runs(self.view.runs)
        self._say(self.view.problem)

    def resizeEvent(self, event) -> None:
        """The settings column takes the room the others leave, but never less than ``SETTINGS_MIN_WIDTH``: in a
        narrower window the table scrolls sideways rather than cut the settings to "128-1…"."""
        super().resizeEvent(event)
        columns = self.table.horizontalHeader()
        others = sum(columns.sectionSize(i) for i in range(columns.count()) if i != SETTINGS_COLUMN)
        columns.resizeSection(SETTINGS_COLUMN, max(SETTINGS_MIN_WIDTH, self.table.viewport().width() - others))

    def _build(self) -> None:
        self.filter = QLineEdit(placeholderText="Filter: settings, status, date, accuracy…", clearButtonEnabled=True)
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter.textChanged.connect(self._filter_timer.start)
        self.count = QLabel()
        self.compare_button = QPushButton("Compare", toolTip="Show the settings that differ between the selected runs")
        self.open_button = QPushButton("Open model", toolTip="Load the selected run's weights into the pad, browser and confusion matrix")
        self.maps_button = QPushButton("Maps", toolTip="Replay the selected run's representation maps in the Maps tab")
        self.repeat_button = QPushButton("New run from settings", toolTip="Fill the settings panel with the selected run's settings")
        self.delete_button = QPushButton("Delete", toolTip="Delete the selected runs (Undo brings them back)")
        self.export_button = QPushButton("Export CSV…", toolTip="Write the epochs of the selected runs to a CSV file")
        self.code_button = QPushButton(
            "Export code…", toolTip="Write the selected run as a Jupyter notebook, a NumPy script or a PyTorch script"
        )
        buttons = (
            self.compare_button,
            self.open_button,
            self.maps_button,
            self.repeat_button,
            self.delete_button,
            self.export_button,
            self.code_button,
        )
        actions = (
            self.compare,
            self.open_model,
            self.show_maps,
            self.new_run_from_settings,
            self.delete_selected,
            self._export_to_chosen_file,
            self.export_code,
        )
        for button, action in zip(buttons, actions):
            button.clicked.connect(action)
        header = QHBoxLayout()  # the filter above, the commands below: a row of both is too wide for 1024 pixels
        header.addWidget(self.filter, 1)
        header.addWidget(self.count)
        # the commands below it in two rows, on the selected runs' weights and settings, then on the runs themselves:
        # one row of all seven is too wide for 1024 pixels
        commands = QVBoxLayout()
        for row_buttons in (buttons[:4], buttons[4:]):
            row = QHBoxLayout()
            for button in row_buttons:
                row.addWidget(button)
            row.addStretch(1)
            commands.addLayout(row)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row size queries
        columns = self.table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # never "to contents": that reads every row
        for column, width in enumerate((50, 120, 100, 300, 60, 75, 75, 70, 85)):
            columns.resizeSection(column, width)
        columns.setStretchLastSection(False)  # the settings column takes the room left (resizeEvent)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.message = QLabel(wordWrap=True)
        self.undo_button = QPushButton("Undo", toolTip="Bring the deleted runs back")
        self.undo_button.clicked.connect(self.undo_delete)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message, 1)
        message_row.addWidget(self.undo_button)
        self.comparison = QTableWidget()
        self.comparison.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.comparison.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(header)
        layout.addLayout(commands)
        layout.addLayout(message_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.comparison)
        self._say("")
        self.comparison.setVisible(False)
        self._update_buttons()

    # ---- following the runs view ----------------------------------------------------------------------

    def _show_runs(self, runs: list[RunSummary]) -> None:
        """List ``runs``, keeping the selection (and so the overlays)."""
        selected = self.selected_ids()
        self._showing = True
        try:
            self.table_model.set_runs(runs)
            self._select(selected)
        finally:
            self._showing = False
        self._show_overlaid()
        self._update_buttons()

    def _show_overlaid(self) -> None:
        """Mark the overlaid runs with their curves' colours and select them: exactly those when the view chose
        them (the remembered ones, none after New), else those the filter shows again."""
        overlaid = self.view.overlaid
        as_selected = [run_id for run_id in self._sent if self.view.run(run_id) is not None][:MAX_OVERLAYS]
        self._showing = True
        try:
            if overlaid != as_selected:
                self.select_runs(overlaid)
                self._sent = overlaid
            else:
                self._select([run_id for run_id in overlaid if run_id not in self.selected_ids()])
        finally:
            self._showing = False
        # After the selection change that led here has run its course: a proxy removing rows must not see the
        # model change under it.
        QTimer.singleShot(0, self, lambda: self.table_model.set_overlaid(self.view.overlaid))
        self._update_buttons()

    # ---- selection ---------------------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        """The ids of the selected runs, in the table's order."""
        rows = sorted(self.proxy.mapToSource(index).row() for index in self.table.selectionModel().selectedRows())
        return [self.table_model.run_at(row).id for row in rows]

    def select_runs(self, run_ids: list[int]) -> None:
        """Select exactly these runs (those in the table)."""
        self.table.clearSelection()
        self._select(run_ids)

    def _select(self, run_ids: list[int]) -> None:
        selection = QItemSelection()
        for run_id in run_ids:
            row = self.table_model.row_of(run_id)
            if row is not None:
                index = self.proxy.mapFromSource(self.table_model.index(row, 0))
                if index.isValid():
                    selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(selection, flags)

    def _selection_changed(self, *_) -> None:
        """The user selected runs: overlay them, and keep overlaid those the filter hides (unseen, they were not
        unselected)."""
        if self._showing:
            return
        self._update_buttons()
        ids = self.selected_ids()
        if ids != self._compared:
            self.comparison.setVisible(False)
        self._sent = ids + [run_id for run_id in self.view.overlaid if self._hidden_by_filter(run_id)]  # hiding is not un-overlaying
        self.view.set_overlaid(self._sent)

    def _hidden_by_filter(self, run_id: int) -> bool:
        row = self.table_model.row_of(run_id)
        return row is not None and not self.proxy.mapFromSource(self.table_model.index(row, 0)).isValid()

    def _apply_filter(self) -> None:
        """Show only the runs whose cells hold the filter's text. What is overlaid stays as it is: the selection
        of the rows the filter hides goes, but not because the user unselected them, and a run the filter shows
        again is selected again."""
        self._showing = True
        try:
            self.proxy.setFilterFixedString(self.filter.text().strip())
        finally:
            self._showing = False
        self._show_overlaid()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.table_model.rowCount()
        runs = f"{total:,} run{'s' * (total != 1)}"
        self.count.setText(runs if shown == total else f"{shown:,} of {runs}")

    def _update_buttons(self) -> None:
        selected = len(self.table.selectionModel().selectedRows())
        self.compare_button.setEnabled(selected >= 2)
        self.open_button.setEnabled(selected == 1)
        self.maps_button.setEnabled(selected == 1)
        self.repeat_button.setEnabled(selected == 1)
        self.delete_button.setEnabled(selected >= 1)
        self.export_button.setEnabled(selected >= 1)
        self.code_button.setEnabled(selected == 1)
        self._update_count()

    # ---- commands ---------------------------------------------------------------------------------------

    def compare(self) -> None:
        """Show, for the selected runs, only the settings that differ between them, then their headline figures."""
        self._compared = self.selected_ids()
        runs = [self.view.run(run_id) for run_id in self._compared]
        names = differing_settings([run.config for run in runs])
        rows = [(name, [_setting_text(run.config.get(name)) for run in runs]) for name in names]
        rows += [(name, [figure(run) for run in runs]) for name, figure in HEADLINES.items()]
        self.comparison.clear()
        self.comparison.setRowCount(len(rows))
        self.comparison.setColumnCount(len(runs))
        self.comparison.setHorizontalHeaderLabels([f"run {run.id}" for run in runs])
        self.comparison.setVerticalHeaderLabels([name for name, _ in rows])
        for row, (_, cells) in enumerate(rows):
            for column, text in enumerate(cells):
                self.comparison.setItem(row, column, QTableWidgetItem(text))
        rows_height = self.comparison.verticalHeader().length() + self.comparison.horizontalHeader().height()
        self.comparison.setFixedHeight(min(rows_height + 2 * self.comparison.frameWidth(), MAX_COMPARISON_HEIGHT))
        self.comparison.setVisible(True)
        same = "" if names else " They have the same settings."
        self._say(f"Comparing {len(runs)} runs: the settings that differ, then how each did.{same}")

    def open_model(self) -> None:
        """Make the selected run's weights the current model (as File ▸ Open does with a file)."""
        run_id = self.selected_ids()[0]
        if self.session.open_model(run_id) is not None:
            self._say(f"Opened the weights of run {run_id}.")

    def show_maps(self) -> None:
        """Replay the selected run's representation maps in the Maps tab (a run recorded before maps has none: the
        session says so)."""
        self.session.show_run_maps(self.selected_ids()[0])

    def new_run_from_settings(self) -> None:
        """Fill the settings panel with the selected run's settings, ready to start a new run."""
        run = self.view.run(self.selected_ids()[0])
        try:
            config = TrainConfig.from_dict(run.config)
        except (ConfigError, TypeError):
            self._say(f"Run {run.id} has no usable settings.")
            return
        self.session.propose_settings(config)
        self._say(f"The settings panel now holds the settings of run {run.id}: press Start to train with them.")

    def delete_selected(self) -> None:
        """Delete the selected runs; Undo restores them (until the store purges them, a day later)."""
        self.view.delete(self.selected_ids())

    def undo_delete(self) -> None:
        self.select_runs(self.view.undo_delete())

    def export_selection(self, path: str | Path) -> None:
        """Write the epochs of the selected runs to a CSV file (one row per run and epoch)."""
        self.view.export_csv(self.selected_ids(), path)

    def _export_to_chosen_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the selected runs", "runs.csv", "CSV files (*.csv)")
        if path:
            self.export_selection(path)

    def export_code(self) -> None:
        """Export the selected run as code, in the form and to the file the user chooses (see ``run_export``)."""
        run_id = self.selected_ids()[0]
        if export_with_dialog(self, self.session, recipe_or_notice(self.session, run_id), Path.home()) is not None:
            self._say(f"Exported run {run_id} as code.")

    def _say(self, text: str, undo: bool = False) -> None:
        """Show ``text`` above the table (nothing when empty), with the Undo button when ``undo``."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.undo_button.setVisible(undo)


def differing_settings(configs: list[dict]) -> list[str]:
    """The names of the settings whose values are not the same in all ``configs``, in the first's order."""
    names = list(dict.fromkeys(name for config in configs for name in config))
    return [name for name in names if len({repr(config.get(name)) for config in configs}) > 1]


def _setting_text(value) -> str:
    if isinstance(value, list):
        return "-".join(map(str, value)) or "none"
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def number_text(value: float | None, spec: str) -> str:
    """A figure of a run as the table writes it; "–" when it has none (or it could not be read)."""
    return "–" if value is None else format(value, spec)


def time_text(moment: datetime | None) -> str:
    return "–" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


def accuracy_text(fraction: float | None) -> str:
    """An accuracy as the app writes it, "97.66 %"; "–" for a run that has none."""
    return "–" if fraction is None else f"{figure(100 * fraction)} %"
