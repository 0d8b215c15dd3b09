"""Paying promoters: the payout files staff upload to PayPal or Wise, and the hub's own CSV."""
