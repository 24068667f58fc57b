// Ids of Responses API objects. A response id is the gateway's request id (so the ledger's row, the
// logs and the client's id name the same thing), and an output item's id names its response, so an
// `item_reference` from a client resolves with one lookup.
const HEX = /^[0-9a-f]{32}$/;

export const responseIdOf = (requestId: string): string => `resp_${requestId.replaceAll("-", "")}`;

/** The request id back from a response id (undefined for ids the gateway did not make). */
export function requestIdOf(responseId: string): string | undefined {
  const hex = responseId.slice("resp_".length);
  if (!responseId.startsWith("resp_") || !HEX.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const messageItemId = (responseId: string, index: number): string => `msg_${responseId.slice("resp_".length)}_${index}`;
export const functionCallItemId = (responseId: string, index: number): string => `fc_${responseId.slice("resp_".length)}_${index}`;

/** The response an output item belongs to, from the item's id. */
export function responseIdOfItem(itemId: string): string | undefined {
  const m = /^(?:msg|fc)_([0-9a-f]{32})_\d+$/.exec(itemId);
  return m ? `resp_${m[1]}` : undefined;
}
