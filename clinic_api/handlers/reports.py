"""The TIDE report of a clinic."""
from __future__ import annotations

from clinic_api import context, wire
from clinic_api.domain import tide
from clinic_api.handlers._common import tide_cutoff
from clinic_api.resources import tide as tide_view
from clinic_api.validation import go_bool


def tide_report(clinicId, period, tags, lastDataCutoff, categories=None, excludeNoData=None):
    cutoff, echo = tide_cutoff(lastDataCutoff)
    report = tide.build(context.services(), clinicId, period=period, tag_ids=tags, cutoff=cutoff,
                        categories=categories, exclude_no_data=go_bool(excludeNoData))
    return tide_view.to_api(report.results, clinic_id=clinicId, period=period, tag_ids=tags, cutoff_text=echo,
                            format_time=wire.format_time), 200
