"""The managers' dashboard: a thin web channel over the same services and rules as the bot."""
