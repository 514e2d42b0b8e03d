/**
 * Fingerprints used by the idempotency rules: the body hash (same key + different body = `key_reuse`) and
 * the text comparison used to recognise an earlier delivery at X after a crash.
 */
import { createHash } from 'node:crypto';
import type { OutboundCommand } from '../../contracts';

/** SHA-256 over the fields that define what gets posted; key order is fixed so the hash is stable. */
export function commandBodyHash(command: OutboundCommand): string {
  const canonical = JSON.stringify([
    command.channelId,
    command.kind,
    'targetId' in command ? command.targetId : null,
    command.text,
    command.mediaUrls ?? [],
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/**
 * Normalises a text for "is this the text we sent?": X returns posts with HTML entities escaped, URLs
 * rewritten to t.co links and (for replies) leading @mentions added, so those parts are neutralised.
 */
export function comparableText(text: string): string {
  return (
    text
      .normalize('NFC')
      .replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m] ?? m)
      .replace(/https?:\/\/\S+/g, '<url>')
      // X appends the attached media's t.co link to a post's text: trailing links never tell posts apart
      .replace(/(\s*<url>)+\s*$/, '')
      .replace(/^(\s*@\w+)+\s*/, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/** Whether a text seen at X is the one we sent. */
export const sameText = (sent: string, seen: string) => comparableText(sent) === comparableText(seen);
