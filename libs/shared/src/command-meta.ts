export type Role = 'admin' | 'curator' | 'reader';

export interface Actor {
  id: string;
  name: string;
  role: Role;
}

/** Who asked, and how to make the request's events deterministic. Travels with every command. */
export interface CommandMeta {
  actor: Actor;
  correlationId: string;
  idempotency?: {
    key: string;
    requestHash: string;
    method: string;
    path: string;
    /** Set by the Recorder when the answer is the stored response of an earlier request. */
    replayed?: boolean;
  };
}
