using Microsoft.EntityFrameworkCore;
using VirtApi.Assembler;
using VirtApi.Guests;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Images;

/// <summary>
/// Seeds the guest programs of <c>src/VirtApi.Guests</c> as read-only images at start. A built-in
/// image keeps its id across restarts; when its source changes with a new build it is reassembled.
/// </summary>
internal static class BuiltInImages
{
    public static async Task SeedAsync(VirtApiDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        foreach (var guest in GuestCatalog.All)
        {
            var assembled = RiscVAssembler.Assemble(guest.Source, new AssemblerOptions { FileName = $"{guest.Name}.S" });
            if (!assembled.Succeeded)
            {
                throw new InvalidOperationException(
                    $"built-in guest '{guest.Name}' does not assemble: {string.Join("; ", assembled.Errors.Select(e => $"{e.Line}:{e.Column}: {e.Message}"))}");
            }
            var image = await db.Images.FirstOrDefaultAsync(i => i.Name == guest.Name, cancellationToken);
            if (image is null)
            {
                var now = time.GetUtcNow();
                db.Images.Add(new ImageEntity
                {
                    Id = Guid.CreateVersion7(now),
                    Name = guest.Name,
                    Format = ImageFormat.Asm,
                    Source = guest.Source,
                    Content = assembled.Elf,
                    BuiltIn = true,
                    CreatedAt = now,
                });
            }
            else if (image.BuiltIn && image.Source != guest.Source)
            {
                image.Source = guest.Source;
                image.Content = assembled.Elf;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
    }
}
