namespace Idefics3.Tokenization;

/// <summary>
/// The GPT-2 byte-to-unicode table used by byte-level BPE: every byte maps to one printable character so that BPE
/// vocabularies can be stored as strings.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] _byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> _charToByte = BuildCharToByte();

    /// <summary>Gets the character that stands for a byte.</summary>
    public static char ToChar(byte value) => _byteToChar[value];

    /// <summary>Maps a character back to its byte; false when the character is not part of the alphabet.</summary>
    public static bool TryToByte(char c, out byte value) => _charToByte.TryGetValue(c, out value);

    /// <summary>Encodes a string as UTF-8 and maps every byte to its alphabet character.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= 1024 ? stackalloc byte[max] : new byte[max];
        int count = System.Text.Encoding.UTF8.GetBytes(text, buffer);
        return string.Create(count, buffer[..count].ToArray(), static (span, bytes) =>
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                span[i] = _byteToChar[bytes[i]];
            }
        });
    }

    /// <summary>
    /// Appends the bytes a token stands for, as the Hugging Face ByteLevel decoder does: when every character belongs to
    /// the alphabet the mapped bytes are used, otherwise the token's own UTF-8 bytes.
    /// </summary>
    public static void AppendTokenBytes(string token, List<byte> output)
    {
        int start = output.Count;
        foreach (char c in token)
        {
            if (!_charToByte.TryGetValue(c, out byte b))
            {
                output.RemoveRange(start, output.Count - start);
                output.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
                return;
            }

            output.Add(b);
        }
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var direct = new bool[256];
        for (int b = '!'; b <= '~'; b++)
        {
            direct[b] = true;
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            direct[b] = true;
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            direct[b] = true;
        }

        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (direct[b])
            {
                table[b] = (char)b;
            }
            else
            {
                table[b] = (char)(256 + n);
                n++;
            }
        }

        return table;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[_byteToChar[b]] = (byte)b;
        }

        return map;
    }
}
