"""Rule packs: the numbers that change by year or market, as data with their sources."""
