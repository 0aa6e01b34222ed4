import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Response schemas: the main fields of each document, typed for the OpenAPI document, with
 * further fields allowed (they are serialised as they are), so a field added to a service
 * reaches clients without a schema change.
 */
const open = { additionalProperties: true } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Minor = Type.Integer({ description: 'integer minor units (cents) of the currency' });

export const CustomerResponse = Type.Object(
  {
    id: Type.Integer(), externalId: Nullable(Type.String()), name: Type.String(), currency: Type.String(), paymentTermsDays: Type.Integer(),
    creditLimitMinor: Minor, creditLimit: Type.String(), riskClass: Nullable(Type.String()), status: Type.String(),
  },
  open,
);
export const ProductResponse = Type.Object({ id: Type.Integer(), sku: Type.String(), name: Type.String(), currency: Type.String(), listPriceMinor: Minor, onHand: Type.Integer(), reserved: Type.Integer(), available: Type.Integer() }, open);
export const OrderResponse = Type.Object(
  {
    id: Type.Integer(), customerId: Type.Integer(), status: Type.String(), currency: Type.String(), orderDate: Type.String(), totalMinor: Minor, total: Type.String(),
    lines: Type.Array(Type.Object({ lineNo: Type.Integer(), sku: Type.String(), quantity: Type.Integer(), netMinor: Minor, taxMinor: Minor, totalMinor: Minor, reservedQty: Type.Integer(), shippedQty: Type.Integer(), backorderQty: Type.Integer() }, open)),
  },
  open,
);
export const ShipmentResponse = Type.Object({ id: Type.Integer(), orderId: Type.Integer(), status: Type.String(), carrier: Type.String(), trackingNumber: Type.String(), deliveredAt: Nullable(Type.String()), signedBy: Nullable(Type.String()), invoiceNumber: Nullable(Type.String()) }, open);
export const InvoiceResponse = Type.Object(
  { id: Type.Integer(), number: Type.String(), customerId: Type.Integer(), currency: Type.String(), invoiceDate: Type.String(), dueDate: Type.String(), status: Type.String(), totalMinor: Minor, balanceMinor: Minor },
  open,
);
export const PaymentResponse = Type.Object({ id: Type.Integer(), customerId: Type.Integer(), currency: Type.String(), amountMinor: Minor, paymentDate: Type.String(), status: Type.String(), appliedMinor: Minor, unappliedMinor: Minor }, open);
export const StatementResponse = Type.Object({ customerId: Type.Integer(), currency: Type.String(), from: Type.String(), to: Type.String(), openingBalanceMinor: Minor, closingBalanceMinor: Minor, lines: Type.Array(Type.Object({}, open)) }, open);
export const Page = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), next: Nullable(Type.String({ description: 'pass as ?after= for the next page' })) });
export const AnyObject = Type.Object({}, open);
export const AnyList = Type.Array(Type.Object({}, open));
