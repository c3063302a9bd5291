// Card → the web console's view model. The console shows the platform-neutral card itself (blocks,
// actions, form) and posts clicks as ActionPayload {k, r, v} plus form values through the same handlers
// the chat platforms use. Pure: a JSON-safe deep copy, so stored cards never alias the builder's objects.
import type { Card } from '../../../cards/model.ts';

export type ConsoleCardView = Card;

export function render(card: Card): ConsoleCardView {
  return JSON.parse(JSON.stringify(card)) as ConsoleCardView;
}
