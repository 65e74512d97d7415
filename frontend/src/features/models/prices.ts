/** A model config's prices typed as text: three numbers in USD per million tokens, or none at all. */
import type { ModelPrices } from '../../api/types';

export interface PriceText {
  input: string;
  output: string;
  cached: string;
}

export function priceText(prices: ModelPrices | null): PriceText {
  const text = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));
  return { input: text(prices?.input_per_mtok), output: text(prices?.output_per_mtok), cached: text(prices?.cached_per_mtok) };
}

/**
 * The prices to send: `null` when all three are blank (litellm's price map decides), else
 * input and output are required and cached is optional (cached tokens then cost the input price).
 * Problems come back by the body's field names, as the server's 422 names them.
 */
export function parsePrices(text: PriceText): { prices: ModelPrices | null; problems: Record<string, string[]> } {
  if (!text.input.trim() && !text.output.trim() && !text.cached.trim()) return { prices: null, problems: {} };
  const problems: Record<string, string[]> = {};
  const number = (field: string, value: string, required: boolean): number | null => {
    if (!value.trim()) {
      if (required) problems[field] = ['Required when any price is set'];
      return null;
    }
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) {
      problems[field] = ['A number of dollars, 0 or more'];
      return null;
    }
    return parsed;
  };
  const input = number('input_per_mtok', text.input, true);
  const output = number('output_per_mtok', text.output, true);
  const cached = number('cached_per_mtok', text.cached, false);
  if (input === null || output === null || Object.keys(problems).length) return { prices: null, problems };
  return { prices: { input_per_mtok: input, output_per_mtok: output, cached_per_mtok: cached }, problems };
}

/** `$3 in · $15 out · $0.3 cached` per million tokens, for a list. */
export function pricesSummary(prices: ModelPrices | null): string {
  if (!prices) return 'From litellm’s price map';
  const parts = [`$${prices.input_per_mtok} in`, `$${prices.output_per_mtok} out`];
  if (prices.cached_per_mtok !== null && prices.cached_per_mtok !== undefined) parts.push(`$${prices.cached_per_mtok} cached`);
  return `${parts.join(' · ')} per 1M tokens`;
}
