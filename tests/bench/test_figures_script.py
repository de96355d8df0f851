"""benchmarks/figures.py draws every recorded result the site shows, and says what is missing."""

from pathlib import Path

from bench_scripts import load_script, usage_error

OVERVIEW = Path(__file__).parents[2] / "docs" / "benchmarks" / "overview.md"


def test_every_figure_is_drawn_from_the_recorded_results(tmp_path, capsys):
    figures = load_script("figures.py")
    assert figures.main(["--out", str(tmp_path)]) == 0
    for name in figures.SOURCES:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    printed = capsys.readouterr().out
    assert all(f"<- benchmarks/results/{source.parent.name}/" in printed for source in figures.SOURCES.values())


def test_the_overview_page_shows_every_figure():
    figures = load_script("figures.py")
    page = OVERVIEW.read_text()
    assert all(f"(../figures/{name})" in page for name in figures.SOURCES)


def test_a_missing_result_names_the_file_and_what_to_run(tmp_path, capsys):
    figures = load_script("figures.py")
    figures.SOURCES = {**figures.SOURCES, "bench_peers.png": tmp_path / "peers.json"}
    error = usage_error(figures, ["--out", str(tmp_path)], capsys)
    assert str(tmp_path / "peers.json") in error and "run the benchmark" in error


def test_a_model_missing_on_one_dataset_leaves_a_gap(tmp_path):
    figures = load_script("figures.py")
    record = {"summary": {"S4Forecaster": {"mean_rank": 1.0, "geomean_rel_mase": 0.8}, "AutoETS": {}},
              "datasets": [{"dataset": "a", "horizon": 4, "models": {"S4Forecaster": {"rel_mase": 0.8},
                                                                     "AutoETS": {"error": "timed out"}}},
                           {"dataset": "b", "horizon": 4, "models": {"S4Forecaster": {"rel_mase": 0.9},
                                                                     "AutoETS": {"rel_mase": 1.2}}}]}
    figure = figures.peers_figure(record)
    points = {c.get_label(): c.get_offsets() for c in figure.axes[0].collections}
    assert points["AutoETS"].mask[:, 1].tolist() == [True, False]  # no point where it failed
    assert points["S4Forecaster"][:, 1].tolist() == [0.8, 0.9]
