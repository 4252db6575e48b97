"""The notebooks run from a clean kernel, and the committed copies read on a code-hosting site.

Each notebook is executed by nbclient in a fresh kernel, as a reader's Jupyter
would; any error fails the test. The committed copies keep their outputs (so
they read without running), and every picture among them is an image, not the
text ``<Figure size ...>`` that a figure prints when it cannot display itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extra: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the test extra: pip install -e '.[test]'")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_the_notebook_runs_from_a_clean_kernel_without_error(path: Path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [output for cell in code_cells(notebook) for output in cell.outputs if output.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_the_committed_notebook_keeps_its_outputs_and_its_pictures_are_images(path: Path):
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(code_cells(notebook), start=1):
        assert cell.execution_count is not None, f"code cell {number} of {path.name} was not run before committing"
        for output in cell.outputs:
            text = output.get("data", {}).get("text/plain", "") if "data" in output else ""
            if text.startswith("<Figure size") or text.startswith("<viz.graph"):
                assert {"image/png", "image/svg+xml"} & set(output.data), (
                    f"code cell {number} of {path.name} shows {text!r} instead of a picture"
                )
