namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Takes the API token out of a text before it reaches a message, a log or an exception: the one rule for the library
/// and the CLI.
/// </summary>
/// <remarks>
/// A token of <see cref="MinAnywhereLength"/> characters or more (a real Scrape.do token is 32) is replaced wherever it
/// occurs. A shorter one (a development or emulator token such as <c>dev</c>) is replaced only where it stands alone,
/// not between letters or digits: replacing every <c>x</c> of a one-letter token turned "see inner exception" into
/// "see inner e***ception", and a short token inside an ordinary word is not the token being shown. Where a token
/// really is in a text (a query string, a header, a quoted value) something that is not a letter or digit delimits it.
/// </remarks>
internal static class TokenScrubber
{
    /// <summary>The length from which a token is replaced even inside a word.</summary>
    public const int MinAnywhereLength = 16;

    /// <summary>What a token is replaced with.</summary>
    public const string Mask = "***";

    /// <summary><paramref name="text"/> without <paramref name="token"/>.</summary>
    public static string Scrub(string text, string? token)
    {
        if (string.IsNullOrEmpty(token) || !text.Contains(token, StringComparison.Ordinal))
        {
            return text;
        }

        if (token.Length >= MinAnywhereLength)
        {
            return text.Replace(token, Mask, StringComparison.Ordinal);
        }

        var scrubbed = new System.Text.StringBuilder(text.Length);
        int copied = 0;
        for (int at = text.IndexOf(token, StringComparison.Ordinal); at >= 0; at = text.IndexOf(token, at + 1, StringComparison.Ordinal))
        {
            int end = at + token.Length;
            bool alone = (at == 0 || !char.IsLetterOrDigit(text[at - 1])) && (end == text.Length || !char.IsLetterOrDigit(text[end]));
            if (alone && at >= copied)
            {
                scrubbed.Append(text, copied, at - copied).Append(Mask);
                copied = end;
            }
        }

        return copied == 0 ? text : scrubbed.Append(text, copied, text.Length - copied).ToString();
    }
}
