from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from dashboard import charts, stats
from dashboard.access import staff_required
from dashboard.exports import Column, ListExport, wanted
from dashboard.forms import PERIODS, OverviewForm
from dashboard.periods import MAX_DAYS, Period
from referralhub.models import Provider

# The deliveries the problems card counts: failed or rejected, in the last 24 hours.
PROBLEMS = {"status": ["failed", "rejected"], "received": "24h"}

BREAKDOWN = ListExport(
    "overview-breakdown",
    [
        Column("Provider", lambda row: row.provider),
        Column("Campaign", lambda row: row.campaign),
        Column("Leads", lambda row: row.cohort.leads),
        Column("Customers among them", lambda row: row.cohort.customers),
        Column("Conversion rate (%)", lambda row: f"{row.cohort.rate:.1f}"),
    ],
)


@staff_required
def overview(request: HttpRequest) -> HttpResponseBase:
    form = OverviewForm(request.GET)
    period, scope = form.period(), form.scope()
    if wanted(request):
        return BREAKDOWN.download(
            request, form, lambda _: stats.lead_figures(period, scope).breakdown
        )
    figures = stats.lead_figures(period, scope)
    pending = stats.pending_approval()
    context = {
        "form": form,
        "preset": None if form.is_range else period.days,
        "scope_label": _scope_label(form),
        "periods": PERIODS,
        "max_days": MAX_DAYS,
        "period": period,
        "previous": period.previous(),
        "metrics": figures.metrics,
        "pending": pending,
        "pending_count": sum(row["count"] for row in pending),
        "fulfilment_queue": stats.fulfilment_queue_size(),
        "problems": stats.delivery_problems(),
        "problems_url": f"{reverse('dashboard:deliveries')}?{urlencode(PROBLEMS, doseq=True)}",
        "top_promoters": figures.top_promoters,
        "breakdown": figures.breakdown,
        "money": _money(figures.money, period),
        "refresh_minutes": stats.LEAD_FIGURES_SECONDS // 60,
        "chart": charts.leads_and_customers(figures.buckets, period.bucket),
        "chart_totals": (sum(r[1] for r in figures.buckets), sum(r[2] for r in figures.buckets)),
    }
    return render(request, "dashboard/overview.html", context)


def _scope_label(form: OverviewForm) -> str:
    """What the figures are narrowed to, in words: "FirstPromoter, campaign Spring"."""
    if not form.is_valid():
        return ""
    parts = []
    if provider := form.cleaned_data.get("provider"):
        parts.append(str(Provider(provider).label))
    if campaign := form.cleaned_data.get("campaign"):
        parts.append(f"campaign {campaign}")
    return ", ".join(parts)


def _money(trends: list[stats.MoneyTrend], period: Period) -> list[dict[str, Any]]:
    """Each currency's totals, shown in that currency, and its trend."""
    shown = []
    for trend in trends:

        def amount(value: Any, currency: str = trend.currency) -> str:
            return stats.amount_in(currency, value)

        shown.append(
            {
                "currency": trend.currency or "(no currency)",
                "revenue": amount(trend.revenue),
                "commissions": amount(trend.commissions),
                "revenue_before": amount(trend.revenue_before),
                "commissions_before": amount(trend.commissions_before),
                "chart": charts.revenue_and_commissions(trend.buckets, period.bucket, amount),
            }
        )
    return shown
