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
export const AccountStatementResponse = Type.Object({ customerId: Type.Integer(), currency: Type.String(), from: Type.String(), to: Type.String(), openingBalanceMinor: Minor, closingBalanceMinor: Minor, lines: Type.Array(Type.Object({}, open)) }, open);
/**
 * Every list: a page of `items` and `next`, the value to pass as `?after=` for the following
 * page (null on the last; opaque). A list may add facts about the whole list beside them
 * (`asOf`, `total`).
 */
export const Page = <T extends TSchema>(item: T, about: Record<string, TSchema> = {}) =>
  Type.Object({ items: Type.Array(item), next: Nullable(Type.String({ description: 'pass as ?after= for the next page; null on the last page' })), ...about });
export const AnyObject = Type.Object({}, open);
export const AnyList = Type.Array(Type.Object({}, open));
export const PromiseResponse = Type.Object(
  { id: Type.Integer(), customerId: Type.Integer(), invoices: Type.Array(Type.String()), promisedDate: Type.String(), amountMinor: Minor, amount: Type.String(), currency: Type.String(), status: Type.String(), paidMinor: Minor, resolvedOn: Nullable(Type.String()) },
  open,
);
export const DisputeResponse = Type.Object(
  { id: Type.Integer(), invoice: Type.String(), line: Nullable(Type.Integer()), customerId: Type.Integer(), reason: Type.String(), amountMinor: Minor, currency: Type.String(), status: Type.String(), creditNote: Nullable(Type.String()) },
  open,
);
export const ActionResponse = Type.Object({ id: Type.Integer(), customerId: Type.Integer(), invoiceId: Nullable(Type.Integer()), kind: Type.String(), note: Nullable(Type.String()), nextAction: Nullable(Type.String()), nextActionOn: Nullable(Type.String()), actionDate: Type.String() }, open);
export const MessageResponse = Type.Object({ id: Type.Integer(), kind: Type.String(), customerId: Nullable(Type.Integer()), userId: Nullable(Type.Integer()), asOf: Type.String(), to: Nullable(Type.String()), subject: Type.String(), status: Type.String(), error: Nullable(Type.String()) }, open);
export const WorklistResponse = Page(
  Type.Object({ rank: Type.Integer(), customerId: Type.Integer(), customer: Type.String(), invoice: Type.String(), dueDate: Type.String(), daysPastDue: Type.Integer(), balanceMinor: Minor, balance: Type.String(), currency: Type.String(), amountAtRiskMinor: Nullable(Minor), amountAtRisk: Nullable(Type.String()), disputed: Type.Boolean() }, open),
  { asOf: Type.String(), basis: Type.String({ description: 'forecast | days_overdue' }), forecastAsOf: Nullable(Type.String()), collector: Nullable(Type.String()), totalItems: Type.Integer({ description: 'open items in the whole ranking' }) },
);
export const HoldResponse = Type.Object({ id: Type.Integer(), customerId: Type.Integer(), customerName: Type.String(), currency: Type.String(), totalMinor: Minor, total: Type.String(), submittedAt: Nullable(Type.String()), reasons: Type.Array(Type.String({ description: 'why the credit check held the order' })) }, open);
export const CreditDecisionResponse = Type.Object(
  { id: Type.Integer(), orderId: Type.Integer(), decision: Type.String(), automatic: Type.Boolean(), currency: Type.String(), exposureMinor: Minor, exposure: Type.String(), creditLimitMinor: Minor, creditLimit: Type.String(), reasons: Type.Array(Type.String()), decidedBy: Type.String(), decidedAt: Type.String() },
  open,
);
export const OrderHistoryResponse = Type.Object({ id: Type.Integer(), orderId: Type.Integer(), fromStatus: Nullable(Type.String()), toStatus: Type.String(), reason: Nullable(Type.String()), actor: Type.String(), at: Type.String() }, open);
export const PolicyResponse = Type.Object({ name: Type.String(), levels: Type.Array(Type.Object({}, open)) }, open);
export const ReminderRunResponse = Type.Object(
  { asOf: Type.String(), dryRun: Type.Boolean(), customersChecked: Type.Integer(), messages: Type.Array(Type.Object({ customerId: Type.Integer(), level: Type.Integer(), invoices: Type.Integer(), newNotices: Type.Integer(), totalDue: Type.String(), messageId: Nullable(Type.Integer()) }, open)) },
  open,
);
