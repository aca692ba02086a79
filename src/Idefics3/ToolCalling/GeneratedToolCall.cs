namespace Idefics3.ToolCalling;

/// <summary>
/// The raw representation of a <see cref="Microsoft.Extensions.AI.FunctionCallContent"/> this library parsed from the
/// model's output: the exact JSON body the model generated. When the call is sent back in the history it is replayed
/// byte for byte, so the prompt repeats what the model produced and the prefix KV cache covers it.
/// </summary>
/// <param name="Body">The envelope's JSON body, <c>{"name":...,"arguments":{...}}</c>, as generated.</param>
internal sealed record GeneratedToolCall(string Body);
