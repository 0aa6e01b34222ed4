import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Fulfilment: cycle times order → approval → shipment → delivery → invoice → cash, credit holds, on-time delivery. */
emit(
  await withSnapshot(async (q) => {
    const scope = await mainScope(q);
    const cycles = await q(`select month::varchar as month, step, step_order, orders, median_days, p90_days from metrics.order_cycle_times order by month, step_order`);
    const orders = await q(`select date_trunc('month', order_date)::date::varchar as month, count(*) as orders,
                                   count(*) filter (where status = 'rejected') as rejected,
                                   count(*) filter (where status = 'cancelled') as cancelled,
                                   count(*) filter (where approved_at is not null and submitted_at is not null and approved_at > submitted_at) as released_after_hold
                            from marts.fct_orders where order_date <= date '${scope.asOf}' group by all order by month`);
    const delivery = await q(`select date_trunc('month', shipped_at)::date::varchar as month, count(*) as shipments,
                                     count(*) filter (where days_in_transit <= 3) as on_time, avg(days_in_transit) as mean_days_in_transit
                              from marts.fct_shipments where shipped_at is not null and delivered_at is not null group by all order by month`);
    return { ...scope, cycles, orders, delivery, onTimeDays: 3 };
  }),
);
