"""Pure domain logic for bank transactions: categories, rules, learned suggestions, transfers, recurring charges."""
