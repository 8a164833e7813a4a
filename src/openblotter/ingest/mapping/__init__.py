"""Mappings: an agency's layout turned into a family schema (spec, operations, rules, people)."""
