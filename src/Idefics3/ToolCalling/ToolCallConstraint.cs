using System.Text;
using Idefics3.Generation;

namespace Idefics3.ToolCalling;

/// <summary>
/// Makes tool calls well-formed by construction. With <see cref="ToolChoice.Auto"/> the output is free text until the
/// model completes <c>&lt;tool_call&gt;</c>; with a required choice it must start with the envelope. Inside an envelope
/// the call grammar (a JSON constraint over <c>{"name": one of the callable tools, "arguments": that tool's schema}</c>)
/// takes over, then <c>&lt;/tool_call&gt;</c> must follow; after a call only further calls (when several are allowed,
/// one per line) or the end may follow. Protocol markup is matched token by token: a token may not straddle free text
/// and the envelope or the JSON and the closing tag (the model can always spell the markup with smaller tokens, so
/// this is stricter than needed but never blocks). One instance per request; not thread-safe.
/// </summary>
internal sealed class ToolCallConstraint : ITokenConstraint
{
    /// <summary>Output tokens kept back from the call's JSON for the closing tag, so the call closes within the budget.</summary>
    private const int CloseReserve = 6;

    /// <summary>Output tokens a call needs at least before one is started where starting is optional (a free-text answer, or a further call).</summary>
    private const int OptionalCallBudget = 32;

    private static readonly byte[] Trigger = Encoding.UTF8.GetBytes(ToolCallProtocol.CallOpen);

    private readonly TokenByteTable _vocabulary;
    private readonly Func<ITokenConstraint> _newCallBody;
    private readonly bool _allowMultiple;
    private readonly List<byte> _tail = [];
    private Phase _phase;
    private LiteralSet? _literal;
    private ITokenConstraint? _body;

    /// <summary>Initializes a new instance of the <see cref="ToolCallConstraint"/> class.</summary>
    /// <param name="vocabulary">Token bytes and end ids.</param>
    /// <param name="choice">Free text first (<see cref="ToolChoice.Auto"/>) or a call first.</param>
    /// <param name="allowMultiple">Whether more calls may follow the first.</param>
    /// <param name="newCallBody">Creates the JSON constraint of one call's body.</param>
    public ToolCallConstraint(TokenByteTable vocabulary, ToolChoice choice, bool allowMultiple, Func<ITokenConstraint> newCallBody)
    {
        _vocabulary = vocabulary;
        _newCallBody = newCallBody;
        _allowMultiple = allowMultiple;
        if (choice == ToolChoice.Auto)
        {
            _phase = Phase.FreeText;
        }
        else
        {
            // One space may come first: the chat template ends with "Assistant:".
            _phase = Phase.Open;
            _literal = new LiteralSet(" " + ToolCallProtocol.CallOpen, ToolCallProtocol.CallOpen);
        }
    }

    private enum Phase
    {
        /// <summary>Free text; the envelope's opening tag starts a call.</summary>
        FreeText,

        /// <summary>The opening tag (or the separator and the opening tag of a further call).</summary>
        Open,

        /// <summary>The call's JSON.</summary>
        Body,

        /// <summary>The closing tag.</summary>
        Close,

        /// <summary>After a call: the end, or a further call when allowed.</summary>
        AfterCall,

        /// <summary>Nothing but the end.</summary>
        Done,
    }

    /// <summary>Gets how many calls have been closed.</summary>
    public int Calls { get; private set; }

    /// <inheritdoc />
    public bool IsComplete => _phase is Phase.FreeText or Phase.AfterCall or Phase.Done;

    /// <inheritdoc />
    public bool MustEnd => _phase == Phase.Done;

    /// <inheritdoc />
    public bool IsAllowed(int tokenId, int remainingTokens)
    {
        if (_vocabulary.EndIds.Contains(tokenId))
        {
            return IsComplete;
        }

        byte[]? bytes = _vocabulary.Bytes(tokenId);
        return _phase switch
        {
            // Special tokens are ordinary output in free text, as without tools.
            Phase.FreeText => bytes is null ? (uint)tokenId < (uint)_vocabulary.Count : FreeTextAllows(bytes, remainingTokens),
            Phase.AfterCall => remainingTokens >= OptionalCallBudget && bytes is not null && _literal!.Fits(bytes),
            Phase.Open or Phase.Close => bytes is not null && _literal!.Fits(bytes),
            Phase.Body => BodyAllows(tokenId, bytes, remainingTokens),
            _ => false,
        };
    }

    /// <inheritdoc />
    public void MaskLogits(Span<float> logits, int remainingTokens)
    {
        if (_phase == Phase.Body && !_body!.IsComplete)
        {
            // Inside the JSON: the body's own (fast) mask; the end is never allowed there.
            _body.MaskLogits(logits, BodyBudget(remainingTokens));
            foreach (int end in _vocabulary.EndIds)
            {
                if ((uint)end < (uint)logits.Length)
                {
                    logits[end] = float.NegativeInfinity;
                }
            }

            return;
        }

        for (int id = 0; id < logits.Length; id++)
        {
            if (!float.IsNegativeInfinity(logits[id]) && !IsAllowed(id, remainingTokens))
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }

    /// <inheritdoc />
    public void Accept(int tokenId)
    {
        if (_vocabulary.EndIds.Contains(tokenId))
        {
            if (!IsComplete)
            {
                throw new InvalidOperationException($"Token {tokenId} (end of sequence) is not allowed: a tool call is unfinished.");
            }

            _phase = Phase.Done;
            return;
        }

        byte[]? bytes = _vocabulary.Bytes(tokenId);
        switch (_phase)
        {
            case Phase.FreeText:
                AcceptFreeText(tokenId, bytes);
                break;
            case Phase.Open or Phase.AfterCall:
                AcceptLiteral(tokenId, bytes);
                if (_literal!.IsComplete)
                {
                    StartBody();
                }
                else
                {
                    _phase = Phase.Open;
                }

                break;
            case Phase.Body:
                AcceptBody(tokenId, bytes);
                break;
            case Phase.Close:
                AcceptLiteral(tokenId, bytes);
                EndCallIfClosed();
                break;
            default:
                throw new InvalidOperationException($"Token {tokenId} is not allowed: the tool calls are complete.");
        }
    }

    private bool FreeTextAllows(byte[] bytes, int remainingTokens)
    {
        // A token may complete the opening tag only if it ends exactly there, and only while a call still fits the budget.
        int found = IndexOfTrigger(bytes);
        return found < 0 || (found + Trigger.Length == _tail.Count + bytes.Length && remainingTokens >= OptionalCallBudget);
    }

    private int IndexOfTrigger(byte[] bytes)
    {
        Span<byte> joined = stackalloc byte[_tail.Count + bytes.Length];
        for (int i = 0; i < _tail.Count; i++)
        {
            joined[i] = _tail[i];
        }

        bytes.CopyTo(joined[_tail.Count..]);
        return joined.IndexOf(Trigger);
    }

    private void AcceptFreeText(int tokenId, byte[]? bytes)
    {
        if (bytes is null)
        {
            if ((uint)tokenId >= (uint)_vocabulary.Count)
            {
                throw new InvalidOperationException($"Token {tokenId} is outside the vocabulary.");
            }

            _tail.Clear();
            return;
        }

        if (!FreeTextAllows(bytes, int.MaxValue))
        {
            throw new InvalidOperationException($"Token {tokenId} runs past the opening tag of a tool call.");
        }

        if (IndexOfTrigger(bytes) >= 0)
        {
            _tail.Clear();
            StartBody();
            return;
        }

        // Keep just enough of the text to recognise an opening tag split across tokens.
        _tail.AddRange(bytes);
        if (_tail.Count > Trigger.Length - 1)
        {
            _tail.RemoveRange(0, _tail.Count - (Trigger.Length - 1));
        }
    }

    private void AcceptLiteral(int tokenId, byte[]? bytes)
    {
        if (bytes is null || !_literal!.Fits(bytes))
        {
            throw new InvalidOperationException($"Token {tokenId} does not continue the tool-call markup.");
        }

        _literal.Add(bytes);
    }

    private bool BodyAllows(int tokenId, byte[]? bytes, int remainingTokens)
    {
        if (_body!.IsComplete && bytes is not null && new LiteralSet(ToolCallProtocol.CallClose).Fits(bytes))
        {
            return true;
        }

        return bytes is not null && _body.IsAllowed(tokenId, BodyBudget(remainingTokens));
    }

    private void AcceptBody(int tokenId, byte[]? bytes)
    {
        if (bytes is not null && _body!.IsAllowed(tokenId, int.MaxValue))
        {
            _body.Accept(tokenId);
            if (_body.MustEnd)
            {
                _phase = Phase.Close;
                _literal = new LiteralSet(ToolCallProtocol.CallClose);
            }

            return;
        }

        if (!_body!.IsComplete)
        {
            throw new InvalidOperationException($"Token {tokenId} is not allowed in the tool call's JSON.");
        }

        _phase = Phase.Close;
        _literal = new LiteralSet(ToolCallProtocol.CallClose);
        AcceptLiteral(tokenId, bytes);
        EndCallIfClosed();
    }

    private void EndCallIfClosed()
    {
        if (!_literal!.IsComplete)
        {
            return;
        }

        Calls++;
        if (_allowMultiple)
        {
            _phase = Phase.AfterCall;
            _literal = new LiteralSet(ToolCallProtocol.CallSeparator + ToolCallProtocol.CallOpen);
        }
        else
        {
            _phase = Phase.Done;
        }
    }

    private void StartBody()
    {
        _body = _newCallBody();
        _phase = Phase.Body;
        _literal = null;
    }

    private static int BodyBudget(int remainingTokens) => Math.Max(1, remainingTokens - CloseReserve);
}
