namespace ScrapeDo.Lean.Internal.Json;

/// <summary>What a <see cref="System.Text.Json.JsonException"/> says about the text, without the reader's position suffix.</summary>
internal static class JsonErrorText
{
    /// <summary>
    /// The message up to the reader's " Path: $ | LineNumber: 0 | BytePositionInLine: 0." suffix, whose zero-based
    /// numbers contradict the one-based line a message around it names.
    /// </summary>
    public static string Describe(System.Text.Json.JsonException ex)
    {
        string message = ex.Message;
        int suffix = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (suffix < 0)
        {
            suffix = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        return (suffix < 0 ? message : message[..suffix]).TrimEnd().TrimEnd('.');
    }
}
