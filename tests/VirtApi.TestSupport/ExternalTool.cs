using System.Diagnostics;

namespace VirtApi.TestSupport;

/// <summary>
/// A reference tool a cross-check test needs (GNU as, objdump, qemu-system-riscv64). When the tool
/// is missing the test is skipped with a reason naming it, unless the environment variable
/// <c>VIRTAPI_REQUIRE_TOOLS=1</c> is set (CI sets it), in which case a missing tool fails the test:
/// CI installs the tools, so a skip there would hide a broken install step.
/// </summary>
public static class ExternalTool
{
    /// <summary>The variable that turns a missing tool into a failure.</summary>
    public const string RequireVariable = "VIRTAPI_REQUIRE_TOOLS";

    /// <summary>Whether missing tools must fail rather than skip.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Finds <paramref name="name"/> on PATH, or null.</summary>
    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Returns the full path of <paramref name="name"/>; skips the calling test when it is missing
    /// (or fails it under <see cref="RequireVariable"/>).
    /// </summary>
    public static string Require(string name, string debianPackage)
    {
        var found = Find(name);
        if (found is not null)
        {
            return found;
        }
        var reason = $"{name} is not installed (apt-get install {debianPackage}); this cross-check needs it.";
        if (Required)
        {
            throw new InvalidOperationException(reason + $" {RequireVariable}=1 makes a missing tool a failure.");
        }
        Skip.If(true, reason);
        return "";
    }

    /// <summary>
    /// Runs a tool to completion with a time limit, returning exit code, stdout bytes and stderr text.
    /// Its standard input is <paramref name="input"/>, then end of file (at once without it).
    /// </summary>
    public static ToolRun Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null, byte[]? input = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (input is not null)
            {
                process.StandardInput.BaseStream.Write(input);
            }
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool ended without reading it all (a closed pipe): its exit code and output say why.
        }
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            copy.Wait();
            return new ToolRun(-1, stdout.ToArray(), stderr.Result, TimedOut: true);
        }
        copy.Wait();
        return new ToolRun(process.ExitCode, stdout.ToArray(), stderr.Result, TimedOut: false);
    }
}

/// <summary>The outcome of <see cref="ExternalTool.Run"/>.</summary>
public sealed record ToolRun(int ExitCode, byte[] Stdout, string Stderr, bool TimedOut);
