"""The REST API (`/api/v1/`): read the mirrored referral data, act on rewards, replay deliveries."""
