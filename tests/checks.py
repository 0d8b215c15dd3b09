"""What the database must hold after a stream was delivered: the correctness half of the bench
scripts and the reliability tests. Each check returns a list of problems (empty when all is well)
so a script can print them all before failing."""

from __future__ import annotations

from collections.abc import Iterable

from tests.stream import FP, IR, RR, Stream

FINAL = ("processed", "ignored")


def inbox_problems(acknowledged_keys: Iterable[str]) -> list[str]:
    """Every delivery answered 2xx is in the inbox, processed; nothing is left half-done."""
    from webhooks.models import WebhookDelivery

    stored = dict(WebhookDelivery.objects.values_list("idempotency_key", "status"))
    problems = []
    missing = [k for k in acknowledged_keys if k not in stored]
    if missing:
        problems.append(
            f"{len(missing)} acknowledged deliveries are not in the inbox: {missing[:5]}"
        )
    unfinished = {k: s for k, s in stored.items() if s not in FINAL}
    if unfinished:
        problems.append(f"{len(unfinished)} stored deliveries are not processed: {unfinished}")
    return problems


def effect_problems(stream: Stream, fulfilment_asks: dict[str, int] | None = None) -> list[str]:
    """Exactly one effect per event: one row per object, each in its newest state."""
    from referralhub.models import Conversion, Lead, Reward

    problems = []

    def compare(what: str, expected: dict[str, str], actual: dict[str, str]) -> None:
        if len(actual) != len(expected):
            problems.append(f"{what}: {len(actual)} rows for {len(expected)} distinct objects")
        wrong = {k: (actual.get(k), v) for k, v in expected.items() if actual.get(k) != v}
        if wrong:
            sample = dict(list(wrong.items())[:5])
            problems.append(f"{what}: {len(wrong)} in the wrong state (got, want): {sample}")

    leads = Lead.objects.filter(provider=FP).values_list("external_id", "state")
    compare("FirstPromoter leads", stream.expected_fp_lead_states(), dict(leads))
    referees = Lead.objects.filter(provider=RR).values_list("external_id", "state")
    compare("Referral Rocket referees", stream.expected_rr_lead_states(), dict(referees))
    rewards = set(Reward.objects.filter(provider=FP).values_list("external_id", flat=True))
    if rewards != stream.reward_ids():
        problems.append(
            f"FirstPromoter rewards: {len(rewards)} rows, {len(stream.reward_ids())} ids"
        )
    orders = set(Conversion.objects.filter(provider=IR).values_list("order_id", flat=True))
    if orders != stream.ir_orders():
        problems.append(f"InviteReferrals conversions: {len(orders)} for {len(stream.ir_orders())}")
    if fulfilment_asks is not None:
        counted = dict(
            Reward.objects.filter(provider=FP, fulfilment="pending").values_list(
                "external_id", "fulfilment_request_count"
            )
        )
        if counted != fulfilment_asks:
            diff = {
                k: (counted.get(k), v) for k, v in fulfilment_asks.items() if counted.get(k) != v
            }
            problems.append(f"fulfilment asks counted (got, want): {dict(list(diff.items())[:5])}")
    return problems
