/**
 * The schemas the stub `hashicorp/aws` provider serves, in the shape of Terraform's plugin protocol
 * (attributes with a type, nested blocks with a nesting mode), and the value type they imply.
 */

/** A Terraform (cty) type in its JSON form: `"string"`, `["list", "string"]`, `["object", {...}]`. */
export type CtyType = 'string' | 'number' | 'bool' | 'dynamic' | ['list' | 'set' | 'map', CtyType] | ['object', Record<string, CtyType>];

export interface AttributeSchema {
  readonly name: string;
  readonly type: CtyType;
  readonly required: boolean;
  readonly optional: boolean;
  readonly computed: boolean;
}

export interface BlockSchema {
  readonly attributes: AttributeSchema[];
  readonly blockTypes: NestedBlockSchema[];
}

export interface NestedBlockSchema {
  readonly typeName: string;
  readonly nesting: 'single' | 'list' | 'set';
  readonly block: BlockSchema;
  readonly minItems: number;
  readonly maxItems: number;
}

/** Everything the stub serves: what `GetProviderSchema` answers. */
export interface ProviderSchemas {
  /** The `hashicorp/aws` version the bindings were generated from (the version cdktf pins). */
  readonly providerVersion: string;
  readonly provider: BlockSchema;
  readonly resources: Record<string, BlockSchema>;
  readonly dataSources: Record<string, BlockSchema>;
  /** Binding code the derivation did not understand (the attribute became `dynamic`): should stay empty. */
  readonly warnings: string[];
}

/** The object type of a block's values (nested blocks become attributes of their nesting's type). */
export function blockType(block: BlockSchema): CtyType {
  const attributes: Record<string, CtyType> = Object.fromEntries(block.attributes.map((a) => [a.name, a.type]));
  for (const nested of block.blockTypes) {
    const object = blockType(nested.block);
    attributes[nested.typeName] = nested.nesting === 'single' ? object : [nested.nesting, object];
  }
  return ['object', attributes];
}
