using System.Text.Encodings.Web;
using System.Text.Json;
using Idefics3.Generation;

namespace Idefics3.Cli.Output;

/// <summary>The single JSON object that <c>ask --json</c> prints (snake_case keys).</summary>
internal static class AnswerJson
{
    public static void Write(Stream output, string model, GenerationResult result, int? topLogProbs)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("model", model);
        writer.WriteString("text", result.Text);
        writer.WriteString("finish_reason", FinishReasonName(result.FinishReason));
        if (result.StopSequence is not null)
        {
            writer.WriteString("stop_sequence", result.StopSequence);
        }

        WriteIds(writer, "input_ids", result.InputIds);
        WriteIds(writer, "output_ids", result.OutputIds);

        writer.WriteStartObject("usage");
        writer.WriteNumber("input_tokens", result.Usage.InputTokens);
        writer.WriteNumber("image_tokens", result.Usage.ImageTokens);
        writer.WriteNumber("output_tokens", result.Usage.OutputTokens);
        writer.WriteNumber("cached_tokens", result.Usage.CachedTokens);
        writer.WriteNumber("total_tokens", result.Usage.TotalTokens);
        writer.WriteEndObject();

        GenerationTimings t = result.Timings;
        writer.WriteStartObject("timings");
        writer.WriteNumber("vision_encoder_ms", Math.Round(t.VisionEncoderMilliseconds, 3));
        writer.WriteNumber("prefill_ms", Math.Round(t.PrefillMilliseconds, 3));
        writer.WriteNumber("time_to_first_token_ms", Math.Round(t.TimeToFirstTokenMilliseconds, 3));
        writer.WriteNumber("decode_ms", Math.Round(t.DecodeMilliseconds, 3));
        writer.WriteNumber("prefill_tokens_per_second", Math.Round(t.PrefillTokensPerSecond, 3));
        writer.WriteNumber("decode_tokens_per_second", Math.Round(t.DecodeTokensPerSecond, 3));
        writer.WriteEndObject();

        writer.WriteNumber("seed", result.Seed);
        if (topLogProbs is not null)
        {
            writer.WriteStartArray("logprobs");
            foreach (TokenLogProb token in result.LogProbs ?? [])
            {
                writer.WriteStartObject();
                WriteToken(writer, token);
                writer.WriteStartArray("top");
                foreach (TokenLogProb alternative in token.TopLogProbs)
                {
                    writer.WriteStartObject();
                    WriteToken(writer, alternative);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.Flush();
        output.WriteByte((byte)'\n');
        output.Flush();
    }

    public static string FinishReasonName(FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.StopSequence => "stop_sequence",
        FinishReason.Length => "length",
        FinishReason.Cancelled => "cancelled",
        _ => reason.ToString().ToLowerInvariant(),
    };

    private static void WriteToken(Utf8JsonWriter writer, TokenLogProb token)
    {
        writer.WriteNumber("id", token.TokenId);
        if (token.Text is not null)
        {
            writer.WriteString("token", token.Text);
        }

        if (float.IsFinite(token.LogProb))
        {
            writer.WriteNumber("logprob", token.LogProb);
        }
        else
        {
            // JSON has no -Infinity: a token the sampler could never pick.
            writer.WriteNull("logprob");
        }
    }

    private static void WriteIds(Utf8JsonWriter writer, string name, IReadOnlyList<int> ids)
    {
        writer.WriteStartArray(name);
        foreach (int id in ids)
        {
            writer.WriteNumberValue(id);
        }

        writer.WriteEndArray();
    }
}
