<?php

declare(strict_types=1);

namespace Ficus\Legacy\Api;

use Ficus\Kernel\Envelope;
use Ficus\Legacy\Domain\ProfileView;

/** Renders a profile as the contract's `data` object / full 200 body. */
final class ProfileRenderer
{
    /** @return array{user_id: string, updated_at: string, attributes: object} */
    public static function data(ProfileView $view): array
    {
        return [
            'user_id' => $view->userId,
            'updated_at' => self::formatUs($view->updatedUs),
            // An object, so an empty profile is {} and numeric keys stay keys.
            'attributes' => (object) $view->attributes,
        ];
    }

    public static function body(ProfileView $view): string
    {
        return Envelope::encode(200, self::data($view), '');
    }

    /** Microseconds since the epoch as YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC). */
    public static function formatUs(int $us): string
    {
        $sec = intdiv($us, 1_000_000);
        return gmdate('Y-m-d\TH:i:s', $sec) . sprintf('.%06dZ', $us - $sec * 1_000_000);
    }
}
