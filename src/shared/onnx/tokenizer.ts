import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import * as path from 'node:path';
import { ModelFolderError, type ModelFolder } from './modelFolder';
import type { Message } from '../vocabulary';

/**
 * A Hugging Face tokenizer (tokenizer.json) with its chat template, through Tokenizers.js and
 * the Jinja implementation that transformers.js uses.
 */
export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly template?: Template;
  /** Ids that end a generation: generation_config, then config, then the tokenizer's eos token. */
  readonly eosIds: ReadonlySet<number>;
  /** Id used to pad batches and to fill rows that have ended. */
  readonly padId: number;

  constructor(private readonly folder: ModelFolder) {
    try {
      this.tokenizer = new Tokenizer(folder.tokenizerJson, folder.tokenizerConfig);
    } catch (error) {
      const file = path.join(folder.dir, 'tokenizer.json');
      throw new ModelFolderError(`${file} cannot be read as a tokenizer (${(error as Error).message}): export the tokenizer again`, file);
    }
    if (folder.chatTemplate !== undefined) {
      try {
        this.template = new Template(folder.chatTemplate);
      } catch (error) {
        throw new ModelFolderError(
          `the chat template of ${folder.dir} (chat_template.jinja or tokenizer_config.json) does not parse: ${(error as Error).message}`,
          folder.dir,
        );
      }
    }
    const eos =
      idList(folder.generationConfig.eos_token_id) ?? idList(folder.config.eos_token_id) ?? this.idsOf(this.specialToken('eos_token'));
    this.eosIds = new Set(eos);
    this.padId =
      firstNumber(folder.generationConfig.pad_token_id, folder.config.pad_token_id) ??
      this.idsOf(this.specialToken('pad_token'))[0] ??
      eos[0] ??
      0;
  }

  get hasChatTemplate(): boolean {
    return Boolean(this.folder.chatTemplate);
  }

  encode(text: string, addSpecialTokens = false): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** As transformers decodes: `clean_up_tokenization_spaces` is off unless the tokenizer config turns it on. */
  decode(ids: number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    const cleanUp = this.folder.tokenizerConfig.clean_up_tokenization_spaces === true;
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: cleanUp });
  }

  /** The chat template rendered as `tokenizer.apply_chat_template(messages, tokenize=False)` does. */
  applyChatTemplate(messages: Message[], addGenerationPrompt: boolean): string {
    if (!this.template) {
      throw new Error(
        `${this.folder.dir} has no chat template (tokenizer_config.json chat_template or chat_template.jinja), so message-list prompts cannot be rendered`,
      );
    }
    const specials = Object.fromEntries(
      ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'sep_token', 'cls_token', 'mask_token'].map((key) => [
        key,
        this.specialToken(key) ?? '',
      ]),
    );
    return this.template.render({ ...specials, messages, add_generation_prompt: addGenerationPrompt });
  }

  private specialToken(key: string): string | undefined {
    const value = this.folder.tokenizerConfig[key];
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
      return (value as { content: string }).content;
    return undefined;
  }

  private idsOf(token: string | undefined): number[] {
    const id = token === undefined ? undefined : this.tokenizer.token_to_id(token);
    return id === undefined ? [] : [id];
  }
}

function idList(value: unknown): number[] | undefined {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  return undefined;
}

function firstNumber(...values: unknown[]): number | undefined {
  return values.find((v): v is number => typeof v === 'number');
}
