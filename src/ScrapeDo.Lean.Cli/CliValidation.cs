using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Options whose values are checked while the command line is parsed, so a typo is a usage error (exit 1, one line
/// naming the flag and what it accepts) before anything is sent, never a value the server refuses for every target
/// and never the parser's own wording, which names .NET types.
/// </summary>
internal static class CliValidation
{
    /// <summary>"1 record", "2 records": a count with its noun, for messages and summaries.</summary>
    public static string Count(long n, string noun) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{n} {noun}{(n == 1 ? string.Empty : "s")}");

    /// <summary>A whole-number option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int?> Int(string name, string description, int min, int max = int.MaxValue)
    {
        var option = new Option<int?>(name) { Description = description };
        option.CustomParser = result =>
        {
            string text = LastToken(result);
            bool parsed = int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value);
            if (parsed && value >= min && value <= max)
            {
                return value;
            }

            result.AddError(min == int.MinValue && max == int.MaxValue ? $"{name} must be a whole number, not '{Excerpt(text)}'."
                : max == int.MaxValue && !parsed && IsDigits(text) ? string.Create(CultureInfo.InvariantCulture, $"{name} must be at most {max}, not '{Excerpt(text)}'.")
                : max == int.MaxValue ? $"{name} must be a whole number of at least {min}, not '{Excerpt(text)}'."
                : $"{name} must be a whole number from {min} to {max}, not '{Excerpt(text)}'.");
            return null;
        };
        return option;
    }

    /// <summary>A whole-number option of at least <paramref name="min"/>, for counts past the range of an int (credits).</summary>
    public static Option<long?> Long(string name, string description, long min)
    {
        var option = new Option<long?>(name) { Description = description };
        option.CustomParser = result =>
        {
            string text = LastToken(result);
            bool parsed = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value);
            if (parsed && value >= min)
            {
                return value;
            }

            result.AddError(!parsed && IsDigits(text)
                ? string.Create(CultureInfo.InvariantCulture, $"{name} must be at most {long.MaxValue}, not '{Excerpt(text)}'.")
                : string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number of at least {min}, not '{Excerpt(text)}'."));
            return null;
        };
        return option;
    }

    /// <summary>Checks that the existing file of <paramref name="flag"/> can be read and written (a missing one is left
    /// to the caller's own message).</summary>
    public static void CheckReadWrite(string? path, string flag)
    {
        if (path is null || !File.Exists(path))
        {
            return;
        }

        try
        {
            using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0))
            {
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot open {flag} '{path}': {Why(ex)}.");
        }
    }

    /// <summary>
    /// Checks, before the first request, that a new run can write the file of <paramref name="flag"/>: an existing
    /// file is opened for writing without truncating it (that waits until the API answered); for a new one, a probe
    /// file of its own name is made and removed in the same folder, so the path itself is never created here and
    /// another process that creates it meanwhile is never undone.
    /// </summary>
    public static void CheckWritable(string? path, string flag)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            if (File.Exists(path))
            {
                using (new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0))
                {
                }

                return;
            }

            ProbeFolder(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", Path.GetFileName(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot open {flag} '{path}': {Why(ex)}.");
        }
    }

    /// <summary>
    /// Makes a new file in <paramref name="folder"/> and removes it at once (a name of its own, never one that exists):
    /// proves the folder takes files. Throws the I/O error that says why not.
    /// </summary>
    public static void ProbeFolder(string folder, string forName)
    {
        using (new FileStream(Path.Combine(folder, $".{forName}.{Guid.NewGuid():N}.probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.DeleteOnClose))
        {
        }
    }

    // Digits that failed to parse can only be too large to fit, which "at least 0" would not say.
    private static bool IsDigits(string text)
    {
        ReadOnlySpan<char> digits = text.AsSpan().TrimStart('+');
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>A number option (decimals allowed) within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<double?> Number(string name, string description, double min, double max)
    {
        var option = new Option<double?>(name) { Description = description };
        option.CustomParser = result =>
        {
            string text = LastToken(result);
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number from {min} to {max}, not '{Excerpt(text)}'."));
            return null;
        };
        return option;
    }

    /// <summary>
    /// Refuses an empty or blank value for <paramref name="option"/>, naming the option and <paramref name="what"/> it
    /// takes (left to the file APIs, <c>-o ""</c> failed with .NET's "The value cannot be an empty string."), and a
    /// value that reads as an option: the parser gives a flag whose value was left out the next word, so
    /// <c>-o --quiet</c> wrote the records to a file named "--quiet" and the run was not quiet. A path that does start
    /// with '-' can still be given as <c>./-name</c>; a lone "-" (stdout or stdin) is a value.
    /// </summary>
    public static Option<string?> NonEmpty(this Option<string?> option, string what)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0)
            {
                return;
            }

            string value = result.Tokens[^1].Value;
            if (string.IsNullOrWhiteSpace(value))
            {
                result.AddError($"{option.Name} needs {what}; the value given is empty.");
            }
            else if (value.Length > 1 && value[0] == '-')
            {
                result.AddError($"{option.Name} needs {what}, not '{Excerpt(value)}', which reads as an option (its value was left out?); a path that starts with '-' can be given as ./{Excerpt(value)}.");
            }
        });
        return option;
    }

    /// <summary>An option whose value must be an absolute http:// or https:// URL with a host.</summary>
    public static Option<string?> HttpUrl(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description };
        option.CustomParser = result =>
        {
            string text = LastToken(result);
            if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0)
            {
                return text;
            }

            result.AddError($"{name} must be an absolute http:// or https:// URL (e.g. https://example.com/hook), not '{Excerpt(text)}'.");
            return null;
        };
        return option;
    }

    /// <summary>An option that takes one of <paramref name="allowed"/> (any casing); the value is returned as listed.</summary>
    public static Option<string?> OneOf(string name, string description, params string[] allowed)
    {
        var option = new Option<string?>(name) { Description = description };
        option.CustomParser = result =>
        {
            string text = LastToken(result);
            foreach (string candidate in allowed)
            {
                if (string.Equals(candidate, text, StringComparison.OrdinalIgnoreCase))
                {
                    return candidate;
                }
            }

            result.AddError($"{name} must be one of {string.Join(", ", allowed)}, not '{Excerpt(text)}'.");
            return null;
        };
        return option;
    }

    /// <summary>
    /// Whether two paths name the same file: the same full path once a symbolic link to the file is followed
    /// (case-insensitively where the file system usually is), or, for two existing files, one file under two names (a
    /// hard link), which no path comparison can see (<see cref="OneFileUnderTwoNames"/>).
    /// </summary>
    public static bool SameFile(string a, string b) =>
        string.Equals(Resolve(a), Resolve(b), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)
        || OneFileUnderTwoNames(a, b);

    /// <summary>
    /// The file standard input reads, where the system says (Linux: <c>/proc/self/fd/0</c>), or null (a pipe, a
    /// terminal, another system): <c>scrapedo run - -o x &lt; x</c> would otherwise empty its own input.
    /// </summary>
    public static string? StandardInputFile()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            // A pipe or socket reads as "pipe:[N]", a terminal or /dev/null as a device: only a regular file can be named.
            return File.ResolveLinkTarget("/proc/self/fd/0", returnFinalTarget: false)?.FullName is { } target
                && !target.StartsWith("/dev/", StringComparison.Ordinal) && !target.StartsWith("/proc/", StringComparison.Ordinal) && File.Exists(target)
                ? target
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether two existing files are one file: while <paramref name="a"/> is held open for reading, an exclusive open
    /// of <paramref name="b"/> fails only when it is the same file (the runtime takes a shared lock for the first
    /// and an exclusive one for the second: <c>flock</c> on Unix, share modes on Windows). An open that is refused
    /// already before <paramref name="a"/> is held (another program locks <paramref name="b"/>), or a runtime that
    /// takes no locks (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>), says nothing either way: false. Files of different
    /// lengths, and empty ones, are never opened.
    /// </summary>
    private static bool OneFileUnderTwoNames(string a, string b)
    {
        // Only two files of the same, non-zero length can be one file with something to lose, and only a regular file
        // has a length: a FIFO, a device or a /proc file reads as 0, and opening a FIFO to read it (the probe below)
        // would wait for a writer that never comes (a run writing its records into a named pipe would hang).
        if (!File.Exists(a) || !File.Exists(b))
        {
            return false;
        }

        long length = new FileInfo(a).Length;
        if (length == 0 || new FileInfo(b).Length != length)
        {
            return false;
        }

        // Three times over: another program that opens B between the two probes (another run reading the same input)
        // would otherwise make two files read as one, and refuse a legitimate run.
        for (int round = 0; round < 3; round++)
        {
            if (!OpensExclusively(b))
            {
                return false;
            }

            try
            {
                using var held = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
                if (OpensExclusively(b))
                {
                    return false;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        return true;
    }

    private static bool OpensExclusively(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, bufferSize: 1);
            return true;
        }
        catch (IOException ex) when (ex.GetType() == typeof(IOException))
        {
            // The plain IOException of a sharing violation (its subclasses are path problems).
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            // A link loop or an unreadable link: compare the path as given.
            return full;
        }
    }

    /// <summary>
    /// Why a file or folder could not be opened or created, in the user's terms. The runtime's messages repeat the path
    /// and speak of "a part of the path" or a file where a folder was meant; the exception's kind says enough.
    /// </summary>
    public static string Why(Exception ex) => ex switch
    {
        DirectoryNotFoundException or FileNotFoundException => "a folder on that path does not exist or cannot hold files",
        UnauthorizedAccessException => "permission denied (or the path is a folder)",
        PathTooLongException => "the path is too long",
        // Other I/O errors (a full disk, a read-only file system) carry the system's own reason, which is the message;
        // the path it appends is already in ours.
        _ => ex.Message.Split(" : '", 2)[0].TrimEnd('.'),
    };

    /// <summary>
    /// Why an input line is not plugin params, for a record's error or a message. A line that is not JSON at all is
    /// said so with an example, without the parser's position text (its LineNumber and BytePositionInLine, counted
    /// from 0 within the one line, which only confuse next to the input's own line number).
    /// </summary>
    public static string PluginProblem(ArgumentException ex) => ex.InnerException is System.Text.Json.JsonException
        ? "not valid JSON; with --plugin each line is one JSON object of the plugin's params, e.g. {\"asin\":\"B0C7BKZ883\",\"geocode\":\"us\"}"
        : ex.Message.Split(" (Parameter", 2)[0];

    /// <summary>A user's value echoed in a message, cut short so a pasted megabyte does not flood the terminal.</summary>
    public static string Excerpt(string text, int max = 80)
    {
        if (text.Length <= max)
        {
            return text;
        }

        // Never half a surrogate pair: a lone one is written as U+FFFD, so the record's target would no longer match
        // the excerpt a resume computes from the line, and the line would get a second record.
        int cut = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    private static string LastToken(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
}
