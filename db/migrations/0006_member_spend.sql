-- Card spend per member and month (program time zone), net of refunds: tiers follow the
-- spend of the last 12 months.
CREATE TABLE member_spend (
    tenant_id   text NOT NULL,
    member_id   text NOT NULL,
    month       date NOT NULL,
    spend_minor bigint NOT NULL,
    PRIMARY KEY (tenant_id, member_id, month)
);
