"""The services every channel calls: one runner for every flow, access rules, records, exports."""
