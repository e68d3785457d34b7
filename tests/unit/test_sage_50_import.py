"""Sage 50 (UK): customer records and audit-trail transactions read through their mappings."""

from __future__ import annotations

import pytest

from erp_recovery.model.records import Customer


@pytest.mark.parametrize("written", ["GB980780684", "GB 980 7806 84", "gb980780684"])
def test_uk_vat_numbers_are_valid_customer_vat_numbers(written: str) -> None:
    customer = Customer(external_id="ABC01", name="ABC Ltd", vat_number=written)
    assert customer.vat_number == "GB980780684"
    with pytest.raises(ValueError, match="checksum"):
        Customer(external_id="ABC01", name="ABC Ltd", vat_number="GB980780685")
