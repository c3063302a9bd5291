// The delivery contract between the outbox (src/app/outbox.ts) and every messenger (src/platforms/*):
// a messenger throws DeliveryFailure when a send cannot be completed now, and the outbox decides from it
// when (or whether) to try again. Timer is the waiting clock of outgoing calls (rate limits, back-off).

/** Raised when a call cannot be completed now; the outbox decides when (or whether) to try again. */
export class DeliveryFailure extends Error {
  constructor(
    readonly retryable: boolean,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

export interface Timer {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: Timer = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
