using System.Globalization;
using VirtApi.Assembler;
using VirtApi.Contracts;
using VirtApi.Machine.Elf;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Images;

/// <summary>Turns an image request into ELF bytes (assembling or validating) and an image into its API view.</summary>
public static class ImageRules
{
    public const int MaxSourceBytes = 1024 * 1024;
    public const int MaxElfBytes = 16 * 1024 * 1024;

    /// <summary>The outcome of <see cref="Build"/>: exactly one of the members is set.</summary>
    public sealed record BuildResult(
        byte[]? Elf,
        Dictionary<string, string[]>? ValidationErrors,
        IReadOnlyList<AssemblyError>? AssemblyErrors,
        string? ElfError);

    /// <summary>Checks the fields, then assembles the source or validates the ELF with the machine's loader.</summary>
    public static BuildResult Build(CreateImageRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var nameError = Names.CheckDnsLabel(request.Name);
        if (nameError is not null)
        {
            errors["name"] = [nameError];
        }
        byte[]? elf = null;
        switch (request.Format)
        {
            case null:
                errors["format"] = [$"is required: one of {string.Join(", ", EnumNames.All<ImageFormat>())}"];
                break;
            case ImageFormat.Asm:
                if (string.IsNullOrEmpty(request.Source))
                {
                    errors["source"] = ["is required for an asm image"];
                }
                else if (System.Text.Encoding.UTF8.GetByteCount(request.Source) > MaxSourceBytes)
                {
                    errors["source"] = [$"must be at most {MaxSourceBytes} bytes"];
                }
                if (request.ContentBase64 is not null)
                {
                    errors["contentBase64"] = ["must be absent for an asm image (it is assembled from source)"];
                }
                break;
            case ImageFormat.Elf:
                if (request.Source is not null)
                {
                    errors["source"] = ["must be absent for an elf image"];
                }
                if (string.IsNullOrEmpty(request.ContentBase64))
                {
                    errors["contentBase64"] = ["is required for an elf image"];
                }
                else if (request.ContentBase64.Length > (MaxElfBytes / 3 * 4) + 4)
                {
                    errors["contentBase64"] = [$"the ELF file must be at most {MaxElfBytes} bytes"];
                }
                else
                {
                    try
                    {
                        elf = Convert.FromBase64String(request.ContentBase64);
                    }
                    catch (FormatException)
                    {
                        errors["contentBase64"] = ["is not valid base64"];
                    }
                }
                break;
        }
        if (errors.Count > 0)
        {
            return new BuildResult(null, errors, null, null);
        }

        if (request.Format == ImageFormat.Asm)
        {
            var assembled = RiscVAssembler.Assemble(request.Source!, new AssemblerOptions { FileName = $"{request.Name}.S" });
            if (!assembled.Succeeded)
            {
                return new BuildResult(null, null, assembled.Errors.Select(e => new AssemblyError(e.Line, e.Column, e.Message)).ToList(), null);
            }
            elf = assembled.Elf;
        }
        return ElfLoader.TryParse(elf, out _, out var elfError)
            ? new BuildResult(elf, null, null, null)
            : new BuildResult(null, null, null, elfError);
    }

    /// <summary>The API view; the ELF was validated when the image was added, so it parses.</summary>
    public static ImageResponse ToResponse(ImageEntity image)
    {
        var elf = ElfLoader.Parse(image.Content);
        return new ImageResponse(
            image.Id,
            image.Name,
            image.Format,
            image.BuiltIn,
            image.Content.Length,
            Hex(elf.Entry),
            elf.Segments.Select(s => new ImageSegment(
                Hex(s.Address),
                s.Data.Length,
                (long)s.MemorySize,
                $"{(s.Read ? 'r' : '-')}{(s.Write ? 'w' : '-')}{(s.Execute ? 'x' : '-')}")).ToList(),
            elf.Symbols.OrderBy(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).Select(s => new ImageSymbol(s.Key, Hex(s.Value))).ToList(),
            image.CreatedAt);
    }

    /// <summary>The highest address the image loads to, for checking that a VM's memory holds it.</summary>
    public static ulong LoadEnd(ImageEntity image) =>
        ElfLoader.Parse(image.Content).Segments.Select(s => s.Address + s.MemorySize).DefaultIfEmpty(0UL).Max();

    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
