"""The demo's notices speak Chinese in the pages' own words
(verifiable/testonly/notice_facts.py, notice_text)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from server import i18n
from verifiable.log.bodies import AgeBand
from verifiable.testonly.notice_facts import notice_text

CATEGORIES = [
    "cancer",
    "heart_attack",
    "stroke",
    "organ_transplant",
    "kidney_failure",
    "coronary_bypass",
    "other_serious",
]


@pytest.mark.parametrize("band", list(AgeBand))
@pytest.mark.parametrize("category", CATEGORIES)
def test_a_demo_notice_names_band_and_category_as_the_pages_do(
    band: AgeBand, category: str
) -> None:
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context(), force_locale("zh_CN"):
        words = i18n.category(category)
        band_words = i18n.age_band(band.value)
    assert words != i18n.category("no_such_category")
    assert notice_text(band, category) == f"一位{band_words}的会员因{words}申请互助。"
