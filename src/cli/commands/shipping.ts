import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument } from '../output.ts';
import { shipmentText } from '../format.ts';
import { createShipment, deliverShipment, getShipment, updateShipmentStatus } from '../../shipping/shipment.service.ts';
import { getInvoice } from '../../invoicing/invoice.service.ts';
import { requireId } from '../../shared/validate.ts';
import { collect, parseLineSpec, type Json } from './args.ts';

/** Shipping (the API's shipping.routes.ts): create, carrier status, delivery with proof, show. */
export function registerShipping(program: Command): void {
  const shipment = program.command('shipment').description('shipping: create, status, deliver, show');
  shipment
    .command('create')
    .requiredOption('--order <id>')
    .option('--line <SKU:QTY>', 'what to ship; default everything reserved', collect, [])
    .requiredOption('--carrier <carrier>')
    .requiredOption('--tracking <number>')
    .option('--json')
    .action(async (o: Json & { order: string; line: string[]; carrier: string; tracking: string }) =>
      withCore(async (core) => {
        const lines = o.line.length ? o.line.map((spec, i) => { const l = parseLineSpec(spec, i); return { sku: l.sku, quantity: l.quantity }; }) : undefined;
        emitDocument(await createShipment(core, { orderId: o.order, lines, carrier: o.carrier, trackingNumber: o.tracking }, cliActor()), o, shipmentText);
      }),
    );
  shipment
    .command('deliver <id>')
    .description('confirm delivery with proof; the delivery is invoiced (its amount and due date are printed)')
    .requiredOption('--signed-by <name>')
    .option('--json')
    .action(async (id: string, o: Json & { signedBy: string }) => {
      const shipmentId = requireId(id, 'shipmentId');
      return withCore(async (core) => {
        const delivered = await deliverShipment(core, shipmentId, { signedBy: o.signedBy }, cliActor());
        const invoice = delivered.invoiceNumber ? await getInvoice(core, delivered.invoiceNumber) : null;
        emitDocument(delivered, o, (s) => shipmentText(s, invoice));
      });
    });
  shipment
    .command('status <id>')
    .requiredOption('--status <status>', 'in_transit or failed')
    .option('--note <text>')
    .option('--json')
    .action(async (id: string, o: Json & { status: string; note?: string }) => withCore(async (core) => emitDocument(await updateShipmentStatus(core, id, o.status, o.note ?? null, cliActor()), o, shipmentText)));
  shipment.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emitDocument(await getShipment(core, id), o, shipmentText)));
}
