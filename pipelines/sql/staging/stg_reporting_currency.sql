-- table: The reporting currency (the core's setting reporting.currency, as its last change in the event feed says; EUR until it is set), the base of the loaded rates, and whether any rates are loaded.
-- grain: one row
select
  coalesce(
    (select json_extract_string(payload, '$.settings[0].value') from raw.events
     where event_type = 'setting.changed' and aggregate_id = 'reporting.currency'
     order by seq desc limit 1),
    'EUR'
  ) as reporting_currency,
  coalesce((select min(base) from staging.core_exchange_rates), 'EUR') as base,
  exists (select 1 from staging.core_exchange_rates) as rates_loaded
