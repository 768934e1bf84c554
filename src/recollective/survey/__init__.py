"""The survey: a questionnaire on influencing what others are recommended, and an analysis of its responses.

MISSION.md cites a survey of about 100 people in which about 32% had acted to influence what *others* are
recommended (Fedorova, Kitch & Podimata, arXiv 2506.04525). That questionnaire is not available; the packaged
instrument is our reconstruction (docs/survey.md). The flow:

    load_instrument() -> render_form()                            # the printable form
    load_responses(csv) -> analyze(..., population=...)           # prevalence, intervals, breakdowns, tests
    simulate_responses(n, prevalence=0.32, rng=0)                 # simulated data for tests and the demo
    render_report_section(analysis, figures)                      # an escaped HTML fragment

Figures are drawn by :mod:`recollective.report.survey_plots`.
"""

from recollective.survey._association import Association, association, choose_test, holm
from recollective.survey._estimates import Proportion, WeightedProportion
from recollective.survey._form import render_form
from recollective.survey._intervals import clopper_pearson_interval, wilson_interval
from recollective.survey._report import render_report, render_report_section
from recollective.survey._responses import (
    MULTI_SEPARATOR,
    Responses,
    load_responses,
    read_responses,
    responses_to_csv,
    write_responses,
)
from recollective.survey._weights import (
    PopulationShares,
    Weighting,
    load_population_shares,
    poststratification_weights,
    read_population_shares,
)
from recollective.survey.analysis import BreakdownResult, SurveyAnalysis, analyze
from recollective.survey.instrument import (
    RESPONDENT_ID,
    Instrument,
    Question,
    default_instrument,
    instrument_from_dict,
    load_instrument,
)
from recollective.survey.simulate import DEFAULT_PREVALENCE, simulate_responses

__all__ = [
    "DEFAULT_PREVALENCE",
    "MULTI_SEPARATOR",
    "RESPONDENT_ID",
    "Association",
    "BreakdownResult",
    "Instrument",
    "PopulationShares",
    "Proportion",
    "Question",
    "Responses",
    "SurveyAnalysis",
    "WeightedProportion",
    "Weighting",
    "analyze",
    "association",
    "choose_test",
    "clopper_pearson_interval",
    "default_instrument",
    "holm",
    "instrument_from_dict",
    "load_instrument",
    "load_population_shares",
    "load_responses",
    "poststratification_weights",
    "read_population_shares",
    "read_responses",
    "render_form",
    "render_report",
    "render_report_section",
    "responses_to_csv",
    "simulate_responses",
    "wilson_interval",
    "write_responses",
]
