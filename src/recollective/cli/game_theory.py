"""``recollective game theory``: what THEORY.md's sufficient conditions say about one instance and strategy.

Registered in :mod:`recollective.cli.game` as ``game_app.command("theory")(theory)``. Thin: parse, call
:func:`recollective.game.theory.theory_report`, render (one JSON document with ``--json``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, handles_errors, parse_index_list, short_indices
from recollective.errors import InvalidParameterError

__all__ = ["theory"]


def _fmt(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def _runs(runs) -> str:
    return ", ".join(f"[{_fmt(lo)}, {_fmt(hi)}]" for lo, hi in runs) or "none"


@handles_errors
def theory(
    instance_path: Annotated[Path, typer.Argument(help="Instance file (.npz with R_true, alpha, optional groups).")],
    members: Annotated[str, typer.Option("--members", help="Collective: majority user indices, e.g. 0,1 or 0-9.")],
    target: Annotated[str, typer.Option("--target", help="The target item: one minority item index.")],
    x: Annotated[
        float | None, typer.Option("--x", help="Uprating value to examine (default: the robust uprating value).")
    ] = None,
    x_max: Annotated[float, typer.Option("--x-max", help="Largest uprating value examined.")] = 10.0,
    n_grid: Annotated[int, typer.Option("--n-grid", help="Grid points for the pointwise certificates.")] = 400,
    alpha: Annotated[float | None, typer.Option("--alpha", help="Override the file's alpha.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """THEORY.md's conditions: structure, x_k, certified intervals, exact window, platform, robustness radius."""
    from recollective.game import load_instance
    from recollective.game.theory import theory_report

    instance = load_instance(instance_path, alpha)
    targets = parse_index_list(target, "--target")
    if len(targets) != 1:
        raise InvalidParameterError(f"--target takes one item index (the theory covers one target); got {target!r}")
    report = theory_report(
        instance.R_true,
        instance.alpha,
        parse_index_list(members, "--members"),
        targets[0],
        x=x,
        x_max=x_max,
        n_grid=n_grid,
        user_group=instance.user_group,
        item_group=instance.item_group,
    )
    document = report.as_dict()
    document.update({"path": str(instance_path), "n_users": instance.shape[0], "n_items": instance.shape[1]})
    if json_out:
        emit_json(document)
        return
    _print(report, instance_path, instance.shape)


def _print(report, path: Path, shape) -> None:
    st = report.structure
    window = report.window
    console.print(
        f"{path}: {shape[0]} users x {shape[1]} items, alpha = {_fmt(st.alpha)}; collective "
        f"{short_indices(window.members)} uprates item {int(window.targets[0])}"
    )
    if not st.ok:
        console.print(f"structure (THEORY.md §1): NOT detected — {st.reason}")
        for failure in st.failures[1:]:
            console.print(f"  also: {failure}")
        console.print("the theory's statements do not apply; window from the brute-force search (effective_window):")
        _print_window(window)
        return
    console.print(
        f"structure (THEORY.md §1): majority–minority, R* = blockdiag(A, c d^T); {st.majority_users.size} x "
        f"{st.majority_items.size} majority block of rank k1 = {st.k1}, {st.minority_users.size} x "
        f"{st.minority_items.size} rank-one minority block"
    )
    console.print(
        f"  gap: sigma_k1(A) = {_fmt(float(st.sigma[-1]))} > alpha = {_fmt(st.alpha)} >= sigma_B = {_fmt(st.sigma_B)}"
        f"; neglected residual {_fmt(st.residual)} (tolerance {st.structure_rtol:g} x s_1(R*))"
    )
    for note in st.notes:
        console.print(f"  note: {note}")
    sp = report.spectral
    console.print(
        f"spectral data (§1): |C| = {sp.c0}, ||P|| = {_fmt(float(sum(sp.P**2)) ** 0.5)}, q = {_fmt(sp.q)}, "
        f"delta = {_fmt(sp.delta)}, gamma = {_fmt(sp.gamma)}, c_eff = {_fmt(sp.c_eff)}"
    )
    console.print(
        f"x_k = {_fmt(sp.x_k)}: the learner keeps a new direction iff x > x_k (Theorem 2.1"
        + ("; with rank-one A no x <= x_k is Pareto-effective, Proposition 1.4)" if st.k1 == 1 else ")")
    )
    t1 = report.theorem1
    if not t1.applicable:
        console.print(f"Theorem 1: not applicable — {t1.reason}")
    else:
        verdict = f"certified interval ({_fmt(t1.x_k)}, {_fmt(t1.x_bar)})" if t1.nonempty else "empty interval"
        console.print(
            f"Theorem 1: {verdict}; x_M = {_fmt(t1.x_M)} (member {t1.binding_member}), x_N = {_fmt(t1.x_N)}; "
            f"(b) depth {_fmt(t1.depth)} {'<' if t1.depth < t1.power else '>='} power {_fmt(t1.power)}"
        )
    console.print(f"pointwise certificates on {report.n_grid} grid points of (0, {_fmt(window.x_max)}] (runs):")
    for test, runs in report.certified_runs.items():
        console.print(f"  {test}: {_runs(runs)}")
    _print_window(window)
    if report.x is None:
        console.print("no uprating value examined (empty Pareto window above x_k; give --x)")
        return
    source = "the robust uprating value" if report.x_source == "robust" else "given"
    where = {True: "inside", False: "outside", None: "beyond x-max of"}[report.x_in_pareto_window]
    console.print(
        f"at x = {_fmt(report.x)} ({source}; {where} the exact Pareto window): k* = {report.retention.rank} "
        "(Theorem 2.1)"
    )
    for certificate in report.certificates:
        if not certificate.applicable:
            console.print(f"  {certificate.test}: not applicable")
        elif certificate.certified:
            console.print(f"  {certificate.test}: certified Pareto-effective")
        else:
            failed = ", ".join(
                f"{name} by {_fmt(-certificate.conditions[name]['slack'])}"
                + (
                    f" (user {certificate.conditions[name]['user']})"
                    if certificate.conditions[name]["user"] is not None
                    else ""
                )
                for name in certificate.failed
            )
            console.print(f"  {certificate.test}: not certified — fails {failed}")
    _print_platform(report.platform, report.x_in_pareto_window)
    rr = report.robustness
    if rr.radius > 0:
        console.print(
            f"Proposition 4.2: block-diagonal noise with ||E||_2 < {_fmt(rr.radius)} keeps it Pareto-effective "
            f"(binding {rr.binding})"
        )
    else:
        console.print(f"Proposition 4.2: no certified radius at this x — {rr.reason}")
    if report.robust.radius is not None:
        console.print(
            f"robust uprating value: x = {_fmt(report.robust.x)} with radius {_fmt(report.robust.radius.radius)} "
            f"(argmax over the Pareto window, {report.robust.n_points} points per interval)"
        )


def _print_window(window) -> None:
    how = "exact evaluator" if window.method == "theory" else f"fallback: {window.fallback_reason}"
    console.print(f"exact window ({how}), x in [0, {_fmt(window.x_max)}]:")
    console.print(f"  Pareto:    {_runs(window.pareto_intervals)}")
    console.print(f"  effective: {_runs(window.effective_intervals)}")
    console.print(f"  endpoints accurate to {window.tolerance:.2g}; {window.n_evaluations} evaluations")


def _print_platform(platform, in_window: bool | None) -> None:
    table = Table("platform utility", "truthful", "at x", "guarantee")
    retained = platform.retained
    table.add_row(
        "fit error", _fmt(platform.fit_truthful), _fmt(platform.fit), "falls (Prop 3.1)" if retained else "none"
    )
    table.add_row(
        "retained variation",
        _fmt(platform.tvr_truthful),
        _fmt(platform.tvr),
        "rises (Prop 3.1)" if retained else "none",
    )
    if platform.pe_condition is None:
        pe = "none (Prop 3.2 is for rank-one A)"
    else:
        pe = "rises in the window (Prop 3.2b)" if platform.pe_condition else "may fall (Prop 3.2c)"
    change = _fmt(platform.pe_change) if in_window else "n/a (formula holds in the window)"
    table.add_row("predicted engagement change", "", change if platform.pe_condition is not None else "n/a", pe)
    table.add_row("welfare gain if certified", "", f">= {_fmt(platform.welfare_gain_bound)}", "Prop 3.1")
    console.print(table)
