import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { pageOf, type ListPageQuery } from '../../shared/facing.ts';
import { createPortalToken, listPortalTokens, revokePortalTokens } from '../keys.service.ts';
import { IdParams, ListQuery, strict } from './schemas.ts';
import { Page } from './responses.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
/** A portal token as the API (and `cashloop customer portal-token ID --list --json`) shows it: never the token. */
export const PortalTokenResponse = Type.Object({
  id: Type.Integer(),
  customerId: Type.Integer(),
  createdAt: Type.String(),
  expiresAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
  status: Type.Union([Type.Literal('live'), Type.Literal('revoked'), Type.Literal('expired')]),
});

/** Customer portal links, for administrators: issue one, list them, withdraw them. */
export const accessRoutes: RouteSpec[] = [
  { method: 'GET', url: '/customers/:id/portal-tokens', response: Page(PortalTokenResponse), permission: 'access:manage', tag: 'portal tokens', summary: "A customer's portal tokens, with whether each still works", params: IdParams, querystring: ListQuery,
    handler: async (req, core) => pageOf(await listPortalTokens(core, (req.params as { id: number }).id), req.query as ListPageQuery) },
  { method: 'POST', url: '/customers/:id/portal-tokens', status: 201, permission: 'access:manage', tag: 'portal tokens', summary: 'Issue a portal token (shown once); it works for `days` days (default: setting portal.token_days)', params: IdParams,
    body: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, strict),
    response: Type.Object({ customerId: Type.Integer(), tokenId: Type.Integer(), token: Type.String(), expiresAt: Type.String() }),
    handler: async (req, core) => createPortalToken(core, (req.params as { id: number }).id, actorOf(req), { days: (req.body as { days?: number } | undefined)?.days }) },
  { method: 'POST', url: '/customers/:id/portal-tokens/revoke', permission: 'access:manage', tag: 'portal tokens', summary: "Withdraw every working portal token of a customer; its portal sessions end at once", params: IdParams,
    response: Type.Object({ customerId: Type.Integer(), revoked: Type.Array(PortalTokenResponse) }),
    handler: async (req, core) => revokePortalTokens(core, (req.params as { id: number }).id, actorOf(req)) },
];
