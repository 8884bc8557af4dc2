using System.Buffers;
using System.Text.Json;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>
/// Unescapes a JSON string token into UTF-8 with one exact-size allocation. Page contents arrive heavily escaped
/// (<c>\u003C</c> for every tag). The reader's own <see cref="Utf8JsonReader.CopyString(Span{byte})"/> decodes into
/// pooled scratch of the escaped size (never shorter than the result), then one exact copy: on 10 MB of escaped HTML
/// that measured as fast as this file's own loop and faster than decoding to a string (docs/benchmarks.md, issue 14).
/// The hand-written loop stays for one case: the reader refuses an escaped lone surrogate, which this client has always
/// decoded as U+FFFD rather than failing a whole page.
/// </summary>
internal static class JsonUnescaper
{
    // Hex digit values by byte; 0xFF marks a non-digit (never met: the reader validated every escape).
    private static ReadOnlySpan<byte> HexValues =>
    [
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255,
        255, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    ];

    /// <summary>Unescapes the string token <paramref name="reader"/> is on (its <c>ValueIsEscaped</c> is true).</summary>
    public static byte[] Unescape(ref Utf8JsonReader reader)
    {
        int escapedLength = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Max(escapedLength, 1));
        try
        {
            int written;
            try
            {
                written = reader.CopyString(scratch);
            }
            catch (InvalidOperationException)
            {
                // An escaped lone surrogate: U+FFFD in its place, as before.
                written = Decode(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan, scratch);
            }

            return scratch.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Unescapes the string token <paramref name="reader"/> is on into <paramref name="destination"/> (at least the
    /// token's escaped length), with the same lone-surrogate rule as <see cref="Unescape(ref Utf8JsonReader)"/>.
    /// </summary>
    public static int UnescapeInto(ref Utf8JsonReader reader, Span<byte> destination)
    {
        try
        {
            return reader.CopyString(destination);
        }
        catch (InvalidOperationException)
        {
            return Decode(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan, destination);
        }
    }

    /// <summary>The hand-written decoder over raw escaped bytes, tolerant of lone surrogates (U+FFFD).</summary>
    public static byte[] Unescape(ReadOnlySpan<byte> source)
    {
        // Unescaped text is never longer than its escaped form.
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Max(source.Length, 1));
        try
        {
            int written = Decode(source, scratch);
            return scratch.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ReadOnlySpan<byte> hex = HexValues;
        int written = 0;
        int i = 0;
        while (true)
        {
            int backslash = source[i..].IndexOf((byte)'\\');
            if (backslash < 0)
            {
                source[i..].CopyTo(destination[written..]);
                return written + source.Length - i;
            }

            source.Slice(i, backslash).CopyTo(destination[written..]);
            written += backslash;
            i += backslash;

            // \u00XX with XX < 0x80: an ASCII character, the escape of every <, >, & and ' in a page.
            if (source[i + 1] == (byte)'u' && source[i + 2] == (byte)'0' && source[i + 3] == (byte)'0' && hex[source[i + 4]] < 8)
            {
                destination[written++] = (byte)((hex[source[i + 4]] << 4) | hex[source[i + 5]]);
                i += 6;
                continue;
            }

            written += DecodeEscape(source, ref i, destination[written..]);
        }
    }

    /// <summary>Decodes the escape at <paramref name="i"/> (a backslash) into <paramref name="into"/>; returns bytes written.</summary>
    private static int DecodeEscape(ReadOnlySpan<byte> source, ref int i, Span<byte> into)
    {
        byte kind = source[i + 1];
        if (kind != (byte)'u')
        {
            into[0] = kind switch
            {
                (byte)'n' => (byte)'\n',
                (byte)'r' => (byte)'\r',
                (byte)'t' => (byte)'\t',
                (byte)'b' => (byte)'\b',
                (byte)'f' => (byte)'\f',
                _ => kind, // \" \\ \/
            };
            i += 2;
            return 1;
        }

        int codePoint = Hex4(source.Slice(i + 2, 4));
        i += 6;
        if (codePoint < 0x80)
        {
            into[0] = (byte)codePoint;
            return 1;
        }

        if (codePoint is >= 0xD800 and <= 0xDBFF && i + 6 <= source.Length && source[i] == (byte)'\\' && source[i + 1] == (byte)'u')
        {
            int low = Hex4(source.Slice(i + 2, 4));
            if (low is >= 0xDC00 and <= 0xDFFF)
            {
                codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
        }

        if (codePoint is >= 0xD800 and <= 0xDFFF)
        {
            // A lone surrogate has no UTF-8 form: U+FFFD, as the framework's own decoder does.
            codePoint = 0xFFFD;
        }

        return new System.Text.Rune(codePoint).EncodeToUtf8(into);
    }

    private static int Hex4(ReadOnlySpan<byte> digits)
    {
        ReadOnlySpan<byte> hex = HexValues;
        return (hex[digits[0]] << 12) | (hex[digits[1]] << 8) | (hex[digits[2]] << 4) | hex[digits[3]];
    }
}
